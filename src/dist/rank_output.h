// What each rank prints: rank 0 keeps stdout and stderr; the other ranks' are sent to /dev/null so a job prints
// its progress once, but their error messages still reach the terminal through the saved stderr.
#pragma once
#include <string>

namespace tune::dist {

// For rank != 0: keeps a copy of stderr, then points stdout and stderr at /dev/null. Rank 0: nothing.
void quiet_unless_main(int rank);

// Writes `line` and a newline to the terminal's stderr (the saved one on a quieted rank), unbuffered.
void print_to_terminal(const std::string& line);

}  // namespace tune::dist
