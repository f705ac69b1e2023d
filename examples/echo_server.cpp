// echo_server: the asyncio streams echo server and client, in one program.
// The server answers each line with the same line; three clients, each on
// its own connection, send their lines and print what comes back. It runs
// on a 4-worker runtime: connections are accepted on every worker's loop.
//
// The Python original (asyncio docs, "TCP echo server/client using streams"):
//
//     async def handle_echo(reader, writer):
//         data = await reader.readline()
//         writer.write(data)
//         await writer.drain()
//         writer.close()
//         await writer.wait_closed()
//
//     async def tcp_echo_client(message):
//         reader, writer = await asyncio.open_connection('127.0.0.1', 8888)
//         writer.write(message.encode())
//         await writer.drain()
//         data = await reader.readline()
//         print(f'Received: {data.decode()!r}')
//         writer.close()
//         await writer.wait_closed()
#include <cstdio>
#include <string>
#include <vector>

#include <corio/corio.hpp>

corio::task<void> handle_echo(corio::stream_reader reader, corio::stream_writer writer) {
    // Every line until the client closes its side.
    for (std::string line; !(line = co_await reader.readline()).empty();) {
        writer.write(line);
        co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
}

corio::task<std::vector<std::string>> tcp_echo_client(unsigned short port, std::string name) {
    auto [reader, writer] = co_await corio::open_connection("127.0.0.1", port);
    std::vector<std::string> received;
    for (int i = 1; i <= 2; ++i) {
        writer.write(name + " says hello " + std::to_string(i) + "\n");
        co_await writer.drain();
        received.push_back(co_await reader.readline());
    }
    writer.close();
    co_await writer.wait_closed();
    co_return received;
}

corio::task<void> amain() {
    corio::server server = co_await corio::start_server(handle_echo, "127.0.0.1", 0);  // 0: any free port
    std::printf("Serving on 127.0.0.1 (%zu listening sockets)\n", server.sockets().size());
    // The clients run concurrently; gather returns their results in order.
    auto [a, b, c] = co_await corio::gather(tcp_echo_client(server.port(), "alice"),
                                            tcp_echo_client(server.port(), "bob"),
                                            tcp_echo_client(server.port(), "carol"));
    for (const auto* lines : {&a, &b, &c})
        for (const std::string& line : *lines) std::printf("Received: %s", line.c_str());
    server.close();
    co_await server.wait_closed();
    std::puts("Server closed");
}

int main() { corio::run(amain(), corio::run_options{.workers = 4}); }
