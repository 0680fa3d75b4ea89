// The golden reference of the engine tests: the reference layers of host/reference/reference_layers.hpp
// (plain integer models that share no code with engines/), under the name the tests use.
#pragma once

#include "host/reference/reference_layers.hpp"

namespace qdf {
namespace golden = reference;
}
