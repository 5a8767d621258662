// `switchboard serve`: opens the store, wires the API to the HTTP server on worker threads,
// and drains gracefully on SIGINT/SIGTERM.
#pragma once

#include "app/config.hpp"

namespace sb::app {

// Runs until a termination signal; returns the process exit code.
int serve(const Config& config);

}  // namespace sb::app
