// Tests for the evaluation progress line: bar, rate and ETA; log lines every kLogSeconds off a terminal, redraws on
// one.
#include <gtest/gtest.h>

#include <sstream>

#include "report/eval_progress.h"

namespace tune {
namespace {

TEST(EvalProgress, StatusLineHasBarRateAndEta) {
  std::ostringstream out;
  const EvalProgress p(55, out, /*redraw=*/false);
  EXPECT_EQ(p.status_line(0, 0.0), "eval 0/55 [--------------------] 0.0%");
  EXPECT_EQ(p.status_line(11, 2.0), "eval 11/55 [####----------------] 20.0% 5.5 it/s ETA 0:08");
  EXPECT_EQ(p.status_line(2, 5.0), "eval 2/55 [--------------------] 3.6% 2.5 s/it ETA 2:13");
  EXPECT_EQ(p.status_line(55, 10.0), "eval 55/55 [####################] 100.0% 5.5 it/s 0:10");
}

TEST(EvalProgress, LogModePrintsEveryTenSecondsAndAtTheEnd) {
  std::ostringstream out;
  EvalProgress p(40, out, /*redraw=*/false);
  p.update(4, 4.0);    // too early
  p.update(10, 10.0);  // 10 s since the start
  p.update(15, 15.0);  // 5 s later: quiet
  p.update(20, 20.0);
  p.finish(40, 40.0);
  EXPECT_EQ(out.str(),
            "eval 10/40 [#####---------------] 25.0% 1.0 it/s ETA 0:30\n"
            "eval 20/40 [##########----------] 50.0% 1.0 it/s ETA 0:20\n"
            "eval 40/40 [####################] 100.0% 1.0 it/s 0:40\n");
}

TEST(EvalProgress, TerminalModeRedrawsInPlace) {
  std::ostringstream out;
  EvalProgress p(4, out, /*redraw=*/true);
  p.update(1, 0.1);  // under kRedrawSeconds: nothing yet
  p.update(2, 0.5);
  p.finish(4, 1.0);
  EXPECT_EQ(out.str(),
            "\r\x1b[Keval 2/4 [##########----------] 50.0% 4.0 it/s ETA 0:01"
            "\r\x1b[Keval 4/4 [####################] 100.0% 4.0 it/s 0:01\n");
}

}  // namespace
}  // namespace tune
