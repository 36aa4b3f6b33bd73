// Tests for the score progress line: counts and rate, log lines every kLogSeconds off a terminal, redraws on one.
#include <gtest/gtest.h>

#include <sstream>

#include "report/rate_progress.h"

namespace tune {
namespace {

TEST(RateProgress, StatusLineHasLinesAndRate) {
  std::ostringstream out;
  RateProgress p(out, /*redraw=*/false);
  p.add(1, 0.4);
  EXPECT_EQ(p.status_line(0.4), "1 line scored, 2.5 lines/s, 0:00");
  p.add(299, 3.0);
  EXPECT_EQ(p.status_line(75.0), "300 lines scored, 4.0 lines/s, 1:15");
}

TEST(RateProgress, LogModePrintsEveryTenSecondsAndAtTheEnd) {
  std::ostringstream out;
  RateProgress p(out, /*redraw=*/false);
  p.add(8, 4.0);    // too early
  p.add(8, 10.0);   // 10 s since the start
  p.add(8, 15.0);   // 5 s later: quiet
  p.add(8, 20.0);
  p.finish(21.0);
  EXPECT_EQ(out.str(),
            "16 lines scored, 1.6 lines/s, 0:10\n"
            "32 lines scored, 1.6 lines/s, 0:20\n"
            "32 lines scored, 1.5 lines/s, 0:21\n");
}

TEST(RateProgress, TerminalRedrawsInPlace) {
  std::ostringstream out;
  RateProgress p(out, /*redraw=*/true);
  p.add(4, 1.0);
  p.finish(2.0);
  EXPECT_EQ(out.str(), "\r\x1b[K4 lines scored, 4.0 lines/s, 0:01\r\x1b[K4 lines scored, 2.0 lines/s, 0:02\n");
}

}  // namespace
}  // namespace tune
