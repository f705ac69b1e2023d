// CORIO_SLOW_PATH marks the rare branch of a hot function, moved into a
// function of its own so that the hot one stays free of the rare one's
// register saves: GCC saves every callee-saved register at the entry of a
// function whose slow path needs them (that was half of the instructions
// of a spawn's frame allocation and free, fib and skynet). noipa: not even
// partly inlined or specialised by GCC; Clang knows only noinline.
#pragma once

#if defined(__clang__)
#define CORIO_SLOW_PATH [[gnu::noinline]]
#else
#define CORIO_SLOW_PATH [[gnu::noipa]]
#endif
