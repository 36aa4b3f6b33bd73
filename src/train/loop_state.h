// LoopState: where a training run is — counters and loss accumulators — exactly enough to resume bit for bit.
#pragma once
#include <cstdint>
#include <vector>

#include "report/log_history.h"
#include "train/metric_window.h"

namespace tune {

struct LoopState {
  int64_t global_step = 0;          // optimizer updates done
  int epoch = 0;                    // epoch of the next micro-batch
  int64_t step_in_epoch = 0;        // index of the next micro-batch in its epoch
  int64_t total_micro_batches = 0;  // micro-batches run so far (HF total_batched_samples)
  double tr_loss = 0.0;             // Σ micro-batch loss / GA since the last log (HF tr_loss)
  double total_loss = 0.0;          // Σ of logged tr_loss (HF _total_loss_scalar)
  int64_t last_logged_step = 0;
  double epoch_progress = 0.0;      // fractional epoch (HF state.epoch)
  double total_flos = 0.0;          // Σ over ranks, stored at each checkpoint and at the end (HF store_flos)
  int world_size = 1;               // data-parallel ranks of the run that saved it
  std::vector<double> tr_loss_by_rank;  // every rank's tr_loss at the save (world_size > 1)
  double train_seconds = 0.0;       // wall time spent training before this process (resumed runs)
  MetricWindow train_metrics;       // dpo: TRL's stored metrics since the last log
  LogHistory log_history = LogHistory::array();
};

}  // namespace tune
