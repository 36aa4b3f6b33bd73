#include "core/threads.h"

#include <omp.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace tune {

namespace {

int affinity_cores() {
  for (int cpus = 1024; cpus <= (1 << 20); cpus *= 4) {
    cpu_set_t* set = CPU_ALLOC(cpus);
    if (!set) break;
    const size_t bytes = CPU_ALLOC_SIZE(cpus);
    const int ok = sched_getaffinity(0, bytes, set);
    const int n = ok == 0 ? CPU_COUNT_S(bytes, set) : 0;
    CPU_FREE(set);
    if (ok == 0) return std::max(n, 1);
    if (errno != EINVAL) break;  // EINVAL: the kernel's mask is larger than ours
  }
  return 1;
}

std::optional<int> parse_positive(std::string_view s) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end == s.data() || v <= 0) return std::nullopt;
  return v;
}

// The smallest cpu.max quota on the way from this process's cgroup (v2: the "0::/path" line) to the root.
std::optional<int> cgroup_quota_cores() {
  std::ifstream membership("/proc/self/cgroup");
  std::string line, path;
  while (std::getline(membership, line))
    if (line.rfind("0::", 0) == 0) path = line.substr(3);
  if (path.empty()) return std::nullopt;
  std::optional<int> best;
  for (std::string dir = path;; dir = dir.substr(0, dir.rfind('/'))) {
    std::ifstream f("/sys/fs/cgroup" + dir + "/cpu.max");
    std::string text;
    if (f && std::getline(f, text))
      if (const auto n = cpu_max_cores(text)) best = best ? std::min(*best, *n) : *n;
    if (dir.empty() || dir == "/") break;
  }
  return best;
}

// OMP_NUM_THREADS's first (outermost) value, when it is set to a positive number.
std::optional<int> omp_num_threads_env() {
  const char* s = std::getenv("OMP_NUM_THREADS");
  if (!s) return std::nullopt;
  const std::string_view v(s);
  return parse_positive(v.substr(0, v.find(',')));
}

}  // namespace

std::optional<int> cpu_max_cores(std::string_view cpu_max) {
  std::istringstream in{std::string(cpu_max)};
  std::string quota, period;
  if (!(in >> quota >> period) || quota == "max") return std::nullopt;
  long long q = 0, p = 0;
  if (std::from_chars(quota.data(), quota.data() + quota.size(), q).ec != std::errc() ||
      std::from_chars(period.data(), period.data() + period.size(), p).ec != std::errc() || q <= 0 || p <= 0)
    return std::nullopt;
  return static_cast<int>(std::max<long long>(1, (q + p - 1) / p));
}

int available_cores() {
  static const int cores = [] {
    const int affinity = affinity_cores();
    const std::optional<int> quota = cgroup_quota_cores();
    return quota ? std::min(affinity, *quota) : affinity;
  }();
  return cores;
}

int team_size(int requested, int local_processes) {
  const int cores = std::max(1, available_cores() / std::max(1, local_processes));
  if (requested > 0) return std::min(requested, cores);
  const std::optional<int> env = omp_num_threads_env();
  return env ? std::min(*env, cores) : cores;
}

int apply_threads(int requested, int local_processes) {
  const int n = team_size(requested, local_processes);
  omp_set_num_threads(n);
  return n;
}

}  // namespace tune
