// The `qdf` executable: the command line of host/cli/qdf_main.cpp for the built-in networks.
#include "host/cli/command_line.hpp"

int main(int argc, char** argv) { return qdf::host::run_command_line(argc, argv); }
