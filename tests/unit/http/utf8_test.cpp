#include <gtest/gtest.h>

#include "unipoints/http/request.hpp"

namespace unipoints::http {
namespace {

TEST(Utf8Test, AcceptsAsciiAndChinese) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("华联超市"));
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));  // U+1F600
  EXPECT_TRUE(IsValidUtf8(""));
}

TEST(Utf8Test, RejectsBrokenSequences) {
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xE4\xB8"));          // truncated 中
  EXPECT_FALSE(IsValidUtf8("\xE4\xB8\xAD\xff"));  // 中 then a stray byte
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation byte
}

TEST(Utf8Test, RejectsOverlongSurrogatesAndOutOfRange) {
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
}

}  // namespace
}  // namespace unipoints::http
