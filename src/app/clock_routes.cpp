// Platform-key operations on time: the settable clock (tests and year-end rehearsals) and running
// the scheduler's pass on demand.

#include "unipoints/app/routes.hpp"
#include "unipoints/core/error.hpp"
#include "unipoints/http/fields.hpp"

namespace unipoints::app {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using nlohmann::json;
using tenancy::Role;

json ClockJson(const core::Clock& clock, const core::SettableClock* settable) {
  return {{"now", core::FormatRfc3339(clock.Now())},
          {"settable", settable != nullptr},
          {"frozen", settable != nullptr && settable->frozen()}};
}

}  // namespace

void RegisterClockRoutes(http::Router& router, const Wiring& w) {
  const core::Clock& clock = w.clock;
  core::SettableClock* settable = w.settable_clock;
  Scheduler* scheduler = w.scheduler;

  router.Add(verb::get, "/v1/ops/clock", {Role::kPlatform}, "The server's business clock",
             [&clock, settable](http::Request&) -> asio::awaitable<http::Response> {
               co_return http::JsonResponse(status::ok, ClockJson(clock, settable));
             });

  router.Add(verb::put, "/v1/ops/clock", {Role::kPlatform},
             "Set the business clock {now, frozen?} (only with clock = settable: tests and rehearsals)",
             [&clock, settable](http::Request& req) -> asio::awaitable<http::Response> {
               if (settable == nullptr) {
                 throw core::DomainError(
                     core::ErrorCode::kNotFound,
                     "The clock is settable only when the server runs with clock = settable");
               }
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               const auto now = f.Time("now");
               bool frozen = false;
               if (const auto* raw = f.Raw("frozen")) {
                 if (raw->is_boolean()) {
                   frozen = raw->get<bool>();
                 } else {
                   f.Error("frozen", "must be true or false");
                 }
               }
               f.Done();
               settable->Set(now, frozen);
               co_return http::JsonResponse(status::ok, ClockJson(clock, settable));
             });

  router.Add(verb::post, "/v1/ops/scheduler/run", {Role::kPlatform},
             "Run the scheduler's pass now (expiry, re-grades, settlement drafts) and answer what it did",
             [&db = w.db, scheduler](http::Request&) -> asio::awaitable<http::Response> {
               if (scheduler == nullptr) throw core::DomainError(core::ErrorCode::kNotFound, "No scheduler");
               auto out = co_await db.Offload([scheduler] { return scheduler->RunOnce(); });
               co_return http::JsonResponse(status::ok, out);
             });
}

}  // namespace unipoints::app
