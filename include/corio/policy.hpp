// The event loop policy: which loop is "the" loop of a thread (asyncio's
// default policy: the context is the thread). A runtime's worker threads
// see their own loop as the running loop.
#pragma once

#include <memory>

#include "corio/event_loop.hpp"

namespace corio {

class event_loop_policy {
public:
    virtual ~event_loop_policy() = default;
    /// The thread's loop; the default policy creates one on the main thread
    /// and throws std::runtime_error on other threads that have none.
    virtual event_loop& get_event_loop() = 0;
    virtual void set_event_loop(std::shared_ptr<event_loop> loop) = 0;
    virtual std::shared_ptr<event_loop> new_event_loop() = 0;
};

/// asyncio's DefaultEventLoopPolicy: one loop per thread.
class default_event_loop_policy : public event_loop_policy {
public:
    event_loop& get_event_loop() override;
    void set_event_loop(std::shared_ptr<event_loop> loop) override;
    std::shared_ptr<event_loop> new_event_loop() override;
};

event_loop_policy& get_event_loop_policy();
/// Replaces the process-wide policy; nullptr restores the default.
void set_event_loop_policy(std::unique_ptr<event_loop_policy> policy);

/// The running loop if there is one on this thread, else the policy's loop.
event_loop& get_event_loop();
void set_event_loop(std::shared_ptr<event_loop> loop);
/// The loop running on this thread; throws std::runtime_error if none is.
event_loop& get_running_loop();

}  // namespace corio
