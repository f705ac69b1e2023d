// Loads the plugin (a shared library that links corio) with dlopen and runs
// it: exits 0 only if it loads and computes 2 * fib(20).
#include <dlfcn.h>

#include <cstdint>
#include <cstdio>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s PLUGIN.so\n", argv[0]);
        return 2;
    }
    void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        std::fprintf(stderr, "dlopen failed: %s\n", dlerror());
        return 1;
    }
    auto run = reinterpret_cast<std::uint64_t (*)()>(dlsym(lib, "corio_plugin_run"));
    if (!run) {
        std::fprintf(stderr, "dlsym failed: %s\n", dlerror());
        return 1;
    }
    const std::uint64_t got = run();
    if (got != 2 * 6765) {
        std::fprintf(stderr, "corio_plugin_run() = %llu, want %d\n", static_cast<unsigned long long>(got), 2 * 6765);
        return 1;
    }
    std::printf("corio_plugin_run() = %llu\n", static_cast<unsigned long long>(got));
    return 0;
}
