// The one translation unit that holds Catch2's main(); every *_test.cpp only
// includes <catch2/catch.hpp>, so test files stay quick to recompile.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
