// The `switchboard` command line (CLI11): subcommands and the flags that override config.
#pragma once

namespace sb::app {

int run_cli(int argc, char** argv);

}  // namespace sb::app
