// Test helpers for error messages: the text of the tune::Error a call throws, and a substring expectation.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"

namespace tune::test {

// The what() of the tune::Error f() throws, or "<no error>" when it returns.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace tune::test

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "message: " << (text) << "\nexpected: " << (part)
