// Tensor: an owning, row-major fp32 host buffer with a shape. The CPU path computes in fp32.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tune {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[2, 3]"

struct Tensor {
  Shape shape;
  std::vector<float> data;

  Tensor() = default;
  explicit Tensor(Shape s) : shape(std::move(s)), data(static_cast<size_t>(shape_numel(shape)), 0.0f) {}

  int64_t numel() const { return static_cast<int64_t>(data.size()); }
  bool empty() const { return data.empty(); }
  float* ptr() { return data.data(); }
  const float* ptr() const { return data.data(); }
  int64_t dim(size_t i) const { return shape.at(i); }
  void zero();
};

}  // namespace tune
