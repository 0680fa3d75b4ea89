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
EvalRun evaluate(Engine& e, const Dataset& data, std::int64_t n = 0, bool show_progress = true);

nlohmann::json eval_json(const Engine& e, const EvalRun& r);
std::string eval_table(const Engine& e, const EvalRun& r);

}  // namespace qdf::host
