#pragma once
// A checkpoint (train room): the model as it stands plus everything needed to
// resume the run bit for bit (optimizer moments, RNG states, epoch,
// early-stopping state, history). Reading and writing checkpoint files is the
// io room's: deepnet/model_file.hpp.
#include "deepnet/model.hpp"
#include "deepnet/trainer_state.hpp"

namespace deepnet {

struct Checkpoint {
  Model model;
  TrainerState state;
};

}  // namespace deepnet
