// Path parameters: matched per segment, %XX escapes decoded (an id may hold '/').

#include <gtest/gtest.h>
#include <boost/beast/http/verb.hpp>

#include "unipoints/http/router.hpp"

namespace unipoints::http {
namespace {

using boost::beast::http::verb;

Router FeedRouter() {
  Router router;
  router.Add(verb::get, "/v1/feeds/{id}", {}, "a feed",
             [](Request&) -> boost::asio::awaitable<Response> { co_return Response{}; });
  return router;
}

TEST(RouterTest, DecodesEscapesInPathParameters) {
  const auto router = FeedRouter();
  EXPECT_EQ(router.Find(verb::get, "/v1/feeds/plain-id").params.at("id"), "plain-id");
  EXPECT_EQ(router.Find(verb::get, "/v1/feeds/a%2Fb").params.at("id"), "a/b");
  EXPECT_EQ(router.Find(verb::get, "/v1/feeds/100%25%3f%23").params.at("id"), "100%?#");
  EXPECT_EQ(router.Find(verb::get, "/v1/feeds/%E4%B8%AD").params.at("id"), "\xE4\xB8\xAD");
  // Not an escape: kept as sent.
  EXPECT_EQ(router.Find(verb::get, "/v1/feeds/50%").params.at("id"), "50%");
  EXPECT_EQ(router.Find(verb::get, "/v1/feeds/%zz").params.at("id"), "%zz");
  // A control character (a NUL would cut the id short in the database): the value as sent.
  EXPECT_EQ(router.Find(verb::get, "/v1/feeds/a%00b").params.at("id"), "a%00b");
  EXPECT_EQ(router.Find(verb::get, "/v1/feeds/a%0Ab").params.at("id"), "a%0Ab");
  // An unescaped '/' still separates segments.
  EXPECT_EQ(router.Find(verb::get, "/v1/feeds/a/b").route, nullptr);
}

}  // namespace
}  // namespace unipoints::http
