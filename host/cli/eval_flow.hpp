// `qdf eval`: the accuracy of a design (a bundle, or a built-in network with its trained model) on
// a labelled image set, through one backend of the host API (host/api/engine_api.hpp).
#pragma once

#include "host/api/engine_api.hpp"
#include "host/data/idx_dataset.hpp"

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace qdf::host {

struct EvalRun {
  std::string dataset;
  std::int64_t images = 0, correct = 0;
  double accuracy = 0;                       // correct / images
  std::vector<int> predicted, labels;        // per image
  std::vector<std::vector<std::int64_t>> confusion;  // [true label][predicted label]
  RunStats stats;
};

// Classifies the first n images of `data` (n <= 0: all) on `e`: each image's pixels fed as the
// input's values (Dataset::stream), the top-1 label compared with the data's. A UserError, before
// anything runs, if the design's input is not the data's image shape or its output is not a
// label among the data's classes.
// Under an MPI job (`ranks` of several processes) the images are split over the ranks
// (Engine::run_split) and rank 0 gets the whole EvalRun, equal to one process's but for the wall
// time; the other ranks get one with no images, to print nothing.
EvalRun evaluate(Engine& e, const Dataset& data, std::int64_t n = 0, bool show_progress = true, const Ranks& ranks = Ranks{});

// Writes each image's predicted label, one a line in image order, to `path` (atomically: a
// failed write leaves no file).
void write_predictions(const std::string& path, const EvalRun& r);

nlohmann::json eval_json(const Engine& e, const EvalRun& r);
std::string eval_table(const Engine& e, const EvalRun& r);

}  // namespace qdf::host
