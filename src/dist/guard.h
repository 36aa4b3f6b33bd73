// Running a job's body on every rank so that an error on any one of them ends all of them with one message.
#pragma once
#include <functional>
#include <memory>

#include "dist/communicator.h"

namespace tune::dist {

// Runs connect() and then body(comm) on this rank. World 1 (env.world_size): exceptions propagate, so the CLI
// reports them as always. World > 1: an exception prints "error: ..." (prefixed with "rank R of W: " on ranks other
// than 0, which first wait two seconds so that an error every rank hits, such as a bad config, is reported once, by
// rank 0) and ends the whole job with exit status 2 (tune::Error, a path that cannot be used) or 1 (anything else):
// through the communicator's abort() once connected, before that by exiting (mpirun then ends the other ranks).
int run_guarded(const LaunchEnv& env, const std::function<std::unique_ptr<Communicator>()>& connect,
                const std::function<int(Communicator&)>& body);

}  // namespace tune::dist
