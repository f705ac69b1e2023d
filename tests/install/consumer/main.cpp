// Built against an *installed* corio by tests/install/run_install_test.cmake:
// the umbrella header, corio::task and corio::run must all work from outside.
#include <corio/corio.hpp>

corio::task<int> hello() { co_return 42; }

int main() { return corio::run(hello()) == 42 ? 0 : 1; }
