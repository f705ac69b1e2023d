// chat_server: a broadcast chat over asyncio-style streams. Each client
// sends its name first; then every line it sends reaches every other
// member as "name: line", and its leaving is announced. The members'
// connections may sit on different workers of the runtime; the room's
// member list is shared between them under a mutex (no await inside it:
// stream_writer::write only buffers).
#include <cstdio>
#include <map>
#include <mutex>
#include <string>

#include <corio/corio.hpp>

class chat_room {
public:
    void join(const std::string& name, corio::stream_writer writer) {
        std::lock_guard lock(mutex_);
        members_.emplace(name, std::move(writer));
    }
    void leave(const std::string& name) {
        std::lock_guard lock(mutex_);
        members_.erase(name);
    }
    /// Sends `text` to everybody but `from`.
    void broadcast(const std::string& from, const std::string& text) {
        std::lock_guard lock(mutex_);
        for (auto& [name, writer] : members_)
            if (name != from) writer.write(text);
    }

private:
    std::mutex mutex_;
    std::map<std::string, corio::stream_writer> members_;
};

corio::task<void> handle_member(chat_room& room, corio::stream_reader reader, corio::stream_writer writer) {
    std::string name = co_await reader.readline();
    if (name.empty()) co_return;
    name.pop_back();  // the "\n"
    room.join(name, writer);
    writer.write("welcome " + name + "\n");
    for (std::string line; !(line = co_await reader.readline()).empty();) room.broadcast(name, name + ": " + line);
    room.leave(name);
    room.broadcast(name, name + " left\n");
    writer.close();
}

struct member {
    corio::stream_reader reader;
    corio::stream_writer writer;
};

corio::task<member> connect_as(unsigned short port, const std::string& name) {
    auto [reader, writer] = co_await corio::open_connection("127.0.0.1", port);
    writer.write(name + "\n");
    std::printf("%s got: %s", name.c_str(), (co_await reader.readline()).c_str());
    co_return member{reader, writer};
}

corio::task<void> show_next_line(member& m, const char* who) {
    std::printf("%s got: %s", who, (co_await m.reader.readline()).c_str());
}

corio::task<void> amain() {
    chat_room room;
    corio::server server = co_await corio::start_server(
        [&room](corio::stream_reader r, corio::stream_writer w) { return handle_member(room, r, w); }, "127.0.0.1", 0);
    member alice = co_await connect_as(server.port(), "alice");
    member bob = co_await connect_as(server.port(), "bob");
    member carol = co_await connect_as(server.port(), "carol");

    alice.writer.write("hi all\n");
    co_await show_next_line(bob, "bob");
    co_await show_next_line(carol, "carol");

    bob.writer.write("hello alice\n");
    co_await show_next_line(alice, "alice");
    co_await show_next_line(carol, "carol");

    carol.writer.close();
    co_await show_next_line(alice, "alice");
    co_await show_next_line(bob, "bob");

    alice.writer.close();
    bob.writer.close();
    server.close();
    co_await server.wait_closed();
    std::puts("room closed");
}

int main() { corio::run(amain(), corio::run_options{.workers = 4}); }
