// switchboard: the one daemon binary.
#include "app/cli.hpp"

int main(int argc, char** argv) { return sb::app::run_cli(argc, argv); }
