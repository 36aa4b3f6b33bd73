// MPI implementation of Communicator. all_reduce is a deterministic reduce-scatter + all-gather: rank q owns the
// q-th slice of the buffer, receives every rank's copy of it (MPI_Ialltoallv), sums them in rank order in double,
// and the owned slices are then gathered everywhere (MPI_Iallgatherv). Every wait polls MPI_Test with short sleeps
// (cheap for oversubscribed ranks) until timeout_s.
#include "dist/mpi_communicator.h"

#define OMPI_SKIP_MPICXX 1  // the C API only
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <thread>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "dist/rank_output.h"

namespace tune::dist {

namespace {

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(const LaunchEnv& env, int timeout_s) : env_(env), timeout_s_(timeout_s) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) MPI_Init(nullptr, nullptr);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &world_);
    TUNE_CHECK(rank_ == env.rank && world_ == env.world_size, "MPI says rank ", rank_, " of ", world_,
               " but the launcher's environment says rank ", env.rank, " of ", env.world_size,
               "; start tune with mpirun from the same MPI installation it was built with");
  }

  ~MpiCommunicator() override {
    barrier();  // with the deadline: MPI_Finalize itself would wait forever for a vanished rank
    MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  int local_rank() const override { return env_.local_rank; }
  int local_world_size() const override { return env_.local_world_size; }
  const char* backend() const override { return "mpi"; }

  void all_reduce(std::span<double> data, ReduceOp op) override { reduce(data, op, MPI_DOUBLE); }
  void all_reduce(std::span<float> data, ReduceOp op) override { reduce(data, op, MPI_FLOAT); }

  void broadcast(std::span<std::byte> data, int root) override {
    TUNE_CHECK(root >= 0 && root < world_, "broadcast: root ", root, " is not a rank of ", world_);
    TUNE_CHECK(data.size() <= static_cast<size_t>(INT_MAX), "broadcast of ", data.size(), " bytes: over MPI's limit");
    MPI_Request req;
    MPI_Ibcast(data.data(), static_cast<int>(data.size()), MPI_BYTE, root, MPI_COMM_WORLD, &req);
    wait(req, "broadcast");
  }

  void barrier() override {
    MPI_Request req;
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    wait(req, "barrier");
  }

  [[noreturn]] void abort(int exit_code) override {
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);  // MPI_Abort does not return; this only tells the compiler so
  }

 private:
  // Rank q's slice of n elements: [n·q/world, n·(q+1)/world).
  int64_t slice_begin(int64_t n, int q) const { return n * q / world_; }

  template <class T>
  void reduce(std::span<T> data, ReduceOp op, MPI_Datatype type) {
    if (world_ == 1) return;
    const int64_t n = static_cast<int64_t>(data.size());
    TUNE_CHECK(n <= INT_MAX, "all_reduce of ", n, " elements: over MPI's int count limit");
    std::vector<int> send_counts(world_), send_displs(world_), recv_counts(world_), recv_displs(world_);
    const int64_t mine = slice_begin(n, rank_ + 1) - slice_begin(n, rank_);
    for (int q = 0; q < world_; ++q) {
      send_displs[q] = static_cast<int>(slice_begin(n, q));
      send_counts[q] = static_cast<int>(slice_begin(n, q + 1) - slice_begin(n, q));
      recv_counts[q] = static_cast<int>(mine);
      recv_displs[q] = static_cast<int>(mine * q);
    }
    std::vector<T> copies(static_cast<size_t>(mine * world_));  // [world, mine]: every rank's copy of my slice
    MPI_Request req;
    MPI_Ialltoallv(data.data(), send_counts.data(), send_displs.data(), type, copies.data(), recv_counts.data(),
                   recv_displs.data(), type, MPI_COMM_WORLD, &req);
    wait(req, "all_reduce");
    T* out = data.data() + slice_begin(n, rank_);
    for (int64_t i = 0; i < mine; ++i) {
      double sum = 0.0;
      for (int p = 0; p < world_; ++p) sum += static_cast<double>(copies[static_cast<size_t>(p * mine + i)]);
      if (op == ReduceOp::Mean) sum /= world_;
      out[i] = static_cast<T>(sum);
    }
    MPI_Iallgatherv(MPI_IN_PLACE, 0, type, data.data(), send_counts.data(), send_displs.data(), type,
                    MPI_COMM_WORLD, &req);
    wait(req, "all_reduce");
  }

  // Polls `req` until it completes; past the deadline reports the stuck collective and aborts the job.
  void wait(MPI_Request& req, const char* what) {
    const auto start = std::chrono::steady_clock::now();
    for (int polls = 0;; ++polls) {
      int done = 0;
      MPI_Test(&req, &done, MPI_STATUS_IGNORE);
      if (done) return;
      if (polls < 100) continue;
      std::this_thread::sleep_for(std::chrono::microseconds(polls < 2000 ? 50 : 1000));
      const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (waited > timeout_s_) {
        print_to_terminal(cat("error: rank ", rank_, " of ", world_, " waited ", timeout_s_, " s in ", what,
                              " for the other ranks (ddp_timeout); one of them is stuck or gone, so the job ends"));
        MPI_Abort(MPI_COMM_WORLD, 3);
      }
    }
  }

  LaunchEnv env_;
  int timeout_s_;
  int rank_ = 0;
  int world_ = 1;
};

}  // namespace

std::unique_ptr<Communicator> mpi_communicator(const LaunchEnv& env, int timeout_s) {
  return std::make_unique<MpiCommunicator>(env, timeout_s);
}

}  // namespace tune::dist
