// The data side of a Plan as the dataset loader takes it.
#pragma once
#include "config/plan.h"
#include "data/dataset.h"

namespace tune {

// stage, dataset, dataset_dir, template, cutoff_len, max_samples and train_on_prompt of a (validated) plan.
DataOptions data_options(const Plan& plan);

}  // namespace tune
