// The one exception type tune.cpp throws for user-facing problems, and checks that build its message.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace tune {

// A problem the user can act on: the message says what went wrong, where, and how to fix it.
// The CLI prints it as "error: <message>" and exits with status 2.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Concatenates any streamable arguments into one string: cat("shape ", 3, " != ", 4).
template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream s;
  (s << ... << args);
  return s.str();
}

template <class... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(cat(args...));
}

}  // namespace tune

// Throws tune::Error with the streamed message when cond is false.
#define TUNE_CHECK(cond, ...)                  \
  do {                                         \
    if (!(cond)) ::tune::fail(__VA_ARGS__);    \
  } while (0)
