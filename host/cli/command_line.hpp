// The qdf command line as a function: `qdf` itself (host/cli/qdf.cpp), and every program that
// runs its own network as a tool (qdf::main, host/api/qdf/qdf.hpp). One implementation, so that
// both have the same subcommands, flags, help and errors.
#pragma once

#include "manager/model_weights.hpp"
#include "manager/network.hpp"

#include <optional>
#include <string>

namespace qdf::host {

// A program's own network. Its tool has the subcommands that take a network (compile, sim, verify,
// eval, train, export, scale) and devices; where `qdf` names a built-in network, the program's
// is implicit (sim, verify and eval still take a bundle directory instead).
struct ProgramNetwork {
  std::string program;  // the tool's name in help and errors: the program's file name
  manager::Net net;
  std::optional<manager::ModelWeights> weights;  // unset: --model FILE or seeded random weights
};

// Parses argv and runs the subcommand; returns the exit code: 0 done, 1 a user error (bad flag,
// file or network, reported on stderr), 2 an internal error, 3 a check that failed (sim's outputs
// against the reference model, verify's simulator against the RTL). `program` null: `qdf`.
int run_command_line(int argc, char** argv, const ProgramNetwork* program = nullptr);

// Parses argv and checks every value that needs no design, model or dataset (the flags, their
// ranges and combinations), as run_command_line does before any work, and stops there: 0 when the
// command would run, or what run_command_line returns for a parse error (help: 0) or a user error.
// Nothing is read but the existence of named files, and nothing is written.
int check_command_line(int argc, char** argv, const ProgramNetwork* program = nullptr);

}  // namespace qdf::host
