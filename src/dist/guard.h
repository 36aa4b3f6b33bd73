// Running a job's body on every rank so that an error on any one of them ends all of them with one message.
#pragma once
#include <functional>

#include "dist/communicator.h"

namespace tune::dist {

// world 1: runs body; exceptions propagate (the CLI reports them as always). world > 1: an exception on this rank
// prints "error: ..." (prefixed with "rank R of W: " on ranks other than 0, which first wait a second so that an
// error every rank hits is reported once, by rank 0) and aborts the whole job with exit status 2 (tune::Error, a
// path that cannot be used) or 1 (anything else).
int run_guarded(Communicator& comm, const std::function<int()>& body);

}  // namespace tune::dist
