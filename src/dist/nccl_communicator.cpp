// NCCL implementation of Communicator. all_reduce keeps the interface's exact rank-order sum: every rank's buffer is
// gathered to every GPU (ncclAllGather), copied back and summed in rank order in double on the host; LoRA and
// value-head gradients are small, so the world-times-larger gather costs little next to a training step.
#include "dist/nccl_communicator.h"

#include <cuda_runtime.h>
#include <dlfcn.h>
#include <nccl.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "dist/rank_output.h"
#include "dist/tcp_bootstrap.h"

#ifndef TUNE_NCCL_LIBRARY
#define TUNE_NCCL_LIBRARY "libnccl.so.2"
#endif

namespace tune::dist {

namespace {

// The NCCL entry points tune uses, resolved from libnccl.so.2 on first use.
struct NcclApi {
  decltype(&ncclGetUniqueId) get_unique_id = nullptr;
  decltype(&ncclCommInitRank) init_rank = nullptr;
  decltype(&ncclAllGather) all_gather = nullptr;
  decltype(&ncclBroadcast) broadcast = nullptr;
  decltype(&ncclCommGetAsyncError) async_error = nullptr;
  decltype(&ncclCommAbort) abort = nullptr;
  decltype(&ncclCommDestroy) destroy = nullptr;
  decltype(&ncclGetErrorString) error_string = nullptr;

  static const NcclApi& get() {
    static const NcclApi api = load();
    return api;
  }

 private:
  static NcclApi load() {
    void* lib = ::dlopen("libnccl.so.2", RTLD_NOW | RTLD_GLOBAL);
    if (!lib) lib = ::dlopen(TUNE_NCCL_LIBRARY, RTLD_NOW | RTLD_GLOBAL);  // the one CMake found at build time
    TUNE_CHECK(lib, "NCCL is needed for data-parallel training on GPUs but libnccl.so.2 cannot be loaded (",
               ::dlerror(), "); install NCCL or add its folder to LD_LIBRARY_PATH");
    NcclApi a;
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(lib, name));
      TUNE_CHECK(fn, "libnccl.so.2 has no ", name, "; install NCCL 2.12 or newer");
    };
    sym(a.get_unique_id, "ncclGetUniqueId");
    sym(a.init_rank, "ncclCommInitRank");
    sym(a.all_gather, "ncclAllGather");
    sym(a.broadcast, "ncclBroadcast");
    sym(a.async_error, "ncclCommGetAsyncError");
    sym(a.abort, "ncclCommAbort");
    sym(a.destroy, "ncclCommDestroy");
    sym(a.error_string, "ncclGetErrorString");
    return a;
  }
};

void cuda_check(cudaError_t e, const char* what) {
  TUNE_CHECK(e == cudaSuccess, "CUDA error in ", what, ": ", cudaGetErrorName(e), " (", cudaGetErrorString(e), ")");
}

void nccl_check(ncclResult_t r, const char* what) {
  TUNE_CHECK(r == ncclSuccess, "NCCL error in ", what, ": ", NcclApi::get().error_string(r),
             " (NCCL_DEBUG=WARN tells more)");
}

template <class T>
ncclDataType_t nccl_type();
template <>
ncclDataType_t nccl_type<float>() { return ncclFloat32; }
template <>
ncclDataType_t nccl_type<double>() { return ncclFloat64; }

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(const LaunchEnv& env, int timeout_s, std::unique_ptr<Communicator> bootstrap)
      : env_(env), timeout_s_(timeout_s), bootstrap_(std::move(bootstrap)) {
    const NcclApi& api = NcclApi::get();
    int devices = 0;
    cuda_check(cudaGetDeviceCount(&devices), "cudaGetDeviceCount");
    TUNE_CHECK(env.local_rank < devices, "local rank ", env.local_rank, " needs GPU ", env.local_rank, " but this ",
               "machine has ", devices, "; start at most one rank per GPU");
    cuda_check(cudaSetDevice(env.local_rank), "cudaSetDevice");
    cuda_check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    ncclUniqueId id{};
    if (env.rank == 0) nccl_check(api.get_unique_id(&id), "ncclGetUniqueId");
    const std::span<std::byte> id_bytes(reinterpret_cast<std::byte*>(&id), sizeof id);
    if (bootstrap_) bootstrap_->broadcast(id_bytes, 0);
    else tcp_broadcast_from_rank0(env, id_bytes, timeout_s);
    nccl_check(api.init_rank(&comm_, env.world_size, id, env.rank), "ncclCommInitRank");
  }

  ~NcclCommunicator() override {
    if (comm_) NcclApi::get().destroy(comm_);
    if (device_) cudaFree(device_);
    if (stream_) cudaStreamDestroy(stream_);
  }

  int rank() const override { return env_.rank; }
  int world_size() const override { return env_.world_size; }
  int local_rank() const override { return env_.local_rank; }
  int local_world_size() const override { return env_.local_world_size; }
  const char* backend() const override { return "nccl"; }

  void all_reduce(std::span<double> data, ReduceOp op) override { reduce(data, op); }
  void all_reduce(std::span<float> data, ReduceOp op) override { reduce(data, op); }

  void broadcast(std::span<std::byte> data, int root) override {
    TUNE_CHECK(root >= 0 && root < world_size(), "broadcast: root ", root, " is not a rank of ", world_size());
    std::byte* dev = static_cast<std::byte*>(device_bytes(data.size()));
    cuda_check(cudaMemcpyAsync(dev, data.data(), data.size(), cudaMemcpyHostToDevice, stream_), "broadcast upload");
    nccl_check(NcclApi::get().broadcast(dev, dev, data.size(), ncclUint8, root, comm_, stream_), "ncclBroadcast");
    cuda_check(cudaMemcpyAsync(data.data(), dev, data.size(), cudaMemcpyDeviceToHost, stream_), "broadcast download");
    wait("broadcast");
  }

  void barrier() override {
    float one = 1.0f;
    reduce(std::span<float>(&one, 1), ReduceOp::Sum);
  }

  [[noreturn]] void abort(int exit_code) override {
    NcclApi::get().abort(comm_);
    std::_Exit(exit_code);
  }

 private:
  void* device_bytes(size_t bytes) {
    if (bytes > device_size_) {
      if (device_) cuda_check(cudaFree(device_), "cudaFree");
      device_ = nullptr;
      cuda_check(cudaMalloc(&device_, bytes), "cudaMalloc for a collective");
      device_size_ = bytes;
    }
    return device_;
  }

  template <class T>
  void reduce(std::span<T> data, ReduceOp op) {
    const int world = world_size();
    const size_t n = data.size();
    T* dev = static_cast<T*>(device_bytes(sizeof(T) * n * static_cast<size_t>(world + 1)));  // [n] mine, [world, n]
    std::vector<T> copies(n * static_cast<size_t>(world));
    cuda_check(cudaMemcpyAsync(dev, data.data(), sizeof(T) * n, cudaMemcpyHostToDevice, stream_), "all_reduce upload");
    nccl_check(NcclApi::get().all_gather(dev, dev + n, n, nccl_type<T>(), comm_, stream_), "ncclAllGather");
    cuda_check(cudaMemcpyAsync(copies.data(), dev + n, sizeof(T) * copies.size(), cudaMemcpyDeviceToHost, stream_),
               "all_reduce download");
    wait("all_reduce");
    for (size_t i = 0; i < n; ++i) {
      double sum = 0.0;
      for (int p = 0; p < world; ++p) sum += static_cast<double>(copies[static_cast<size_t>(p) * n + i]);
      if (op == ReduceOp::Mean) sum /= world;
      data[i] = static_cast<T>(sum);
    }
  }

  // Polls the stream until its work is done, watching NCCL's asynchronous errors; past the deadline aborts.
  void wait(const char* what) {
    const auto start = std::chrono::steady_clock::now();
    while (true) {
      const cudaError_t q = cudaStreamQuery(stream_);
      if (q == cudaSuccess) return;
      if (q != cudaErrorNotReady) cuda_check(q, what);
      ncclResult_t async = ncclSuccess;
      NcclApi::get().async_error(comm_, &async);
      if (async != ncclSuccess && async != ncclInProgress) {
        print_to_terminal(cat("error: rank ", rank(), " of ", world_size(), ": NCCL failed in ", what, ": ",
                              NcclApi::get().error_string(async), "; the job ends"));
        abort(3);
      }
      const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (waited > timeout_s_) {
        print_to_terminal(cat("error: rank ", rank(), " of ", world_size(), " waited ", timeout_s_, " s in ", what,
                              " for the other ranks (ddp_timeout); one of them is stuck or gone, so the job ends"));
        abort(3);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  LaunchEnv env_;
  int timeout_s_;
  std::unique_ptr<Communicator> bootstrap_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  void* device_ = nullptr;
  size_t device_size_ = 0;
};

}  // namespace

std::unique_ptr<Communicator> nccl_communicator(const LaunchEnv& env, int timeout_s,
                                                std::unique_ptr<Communicator> bootstrap) {
  return std::make_unique<NcclCommunicator>(env, timeout_s, std::move(bootstrap));
}

}  // namespace tune::dist
