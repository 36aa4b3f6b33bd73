// Tests for the console progress: HF-style log lines off a terminal, the redrawn status line on one, and the ETA.
#include <gtest/gtest.h>

#include <sstream>

#include "report/log_history.h"
#include "report/progress.h"

namespace tune {
namespace {

using Json = nlohmann::ordered_json;

TEST(Progress, PlainOutputPrintsOneHfLinePerLogEntry) {
  std::ostringstream out;
  Progress p(260, out, /*redraw=*/false);
  p.step(10, 0.5, 1.07, 9.96e-07);  // no status line off a terminal
  p.log(train_log_entry(1.069821, 2.2517521381378174, 9.963544370490268e-07, 10.0 / 260.0, 10));
  p.log(train_end_entry({.runtime_s = 1234.56789, .num_samples = 832.2, .num_steps = 26, .total_flos = 1e16,
                         .train_loss = 1.0465123456789},
                        1.0, 26));
  p.finish();
  EXPECT_EQ(out.str(),
            "{'loss': 1.0698, 'grad_norm': 2.2517521381378174, 'learning_rate': 9.963544370490268e-07, 'epoch': 0.04}\n"
            "{'train_runtime': 1234.5679, 'train_samples_per_second': 0.674, 'train_steps_per_second': 0.021, "
            "'train_loss': 1.0465123456789, 'epoch': 1.0}\n");
}

TEST(Progress, TerminalRedrawsTheStatusLine) {
  std::ostringstream out;
  Progress p(260, out, /*redraw=*/true);
  p.step(1, 0.5, 1.0234, 9.9e-07);
  const std::string status = "step 1/260 [--------------------] 0.4% loss 1.0234 lr 9.9e-07 2.0 it/s ETA 2:10";
  EXPECT_EQ(p.status_line(), status);
  EXPECT_EQ(out.str(), "\r" + status + "\x1b[K");

  out.str("");
  p.log(Json{{"loss", 1.0234}, {"epoch", 0.0}, {"step", 1}});
  EXPECT_EQ(out.str(), "\r\x1b[K{'loss': 1.0234, 'epoch': 0.0}\n\r" + status + "\x1b[K");

  out.str("");
  p.finish();
  EXPECT_EQ(out.str(), "\n");
}

TEST(Progress, RateAndEtaUseTheRecentWindow) {
  std::ostringstream out;
  Progress p(100, out, /*redraw=*/false);
  for (int s = 1; s <= 5; ++s) p.step(s, 10.0, std::nullopt, 1e-4);      // slow start, later out of the window
  for (int s = 6; s <= 25; ++s) p.step(s, 2.0, std::nullopt, 5e-5);
  EXPECT_EQ(p.status_line(), "step 25/100 [#####---------------] 25.0% lr 5.0e-05 2.0 s/it ETA 2:30");
  p.step(100, 2.0, 0.5, 0.0);
  EXPECT_EQ(p.status_line(), "step 100/100 [####################] 100.0% loss 0.5000 lr 0.0e+00 2.0 s/it ETA 0:00");
}

TEST(FormatEta, MinutesThenHours) {
  EXPECT_EQ(format_eta(81), "1:21");
  EXPECT_EQ(format_eta(3725), "1:02:05");
  EXPECT_EQ(format_eta(-1), "?");
}

}  // namespace
}  // namespace tune
