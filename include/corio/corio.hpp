// corio: asyncio's programming model in C++20, on every core.
// One include for the whole public API.
#pragma once

#include "corio/create_task.hpp"
#include "corio/errors.hpp"
#include "corio/event_loop.hpp"
#include "corio/executor.hpp"
#include "corio/future.hpp"
#include "corio/gather.hpp"
#include "corio/outcome.hpp"
#include "corio/policy.hpp"
#include "corio/queue.hpp"
#include "corio/runner.hpp"
#include "corio/runtime.hpp"
#include "corio/shield.hpp"
#include "corio/sleep.hpp"
#include "corio/task.hpp"
#include "corio/task_handle.hpp"
#include "corio/timer_handle.hpp"
#include "corio/wait.hpp"
