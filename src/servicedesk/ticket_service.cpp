#include "unipoints/servicedesk/ticket_service.hpp"

#include <chrono>
#include <limits>

#include "ticket_store.hpp"
#include "unipoints/core/error.hpp"
#include "unipoints/http/page.hpp"

namespace unipoints::servicedesk {
namespace {

using core::DomainError;
using core::ErrorCode;
using nlohmann::json;

json At(const pqxx::field& f) {
  return f.is_null() ? json(nullptr) : json(core::FormatRfc3339(core::FromUnixMicros(f.as<std::int64_t>())));
}

json TicketRow(const pqxx::row& r, core::Instant now) {
  const auto due = core::FromUnixMicros(r[12].as<std::int64_t>());
  json out = {
      {"ticket_id", r[0].as<std::int64_t>()},
      {"member_id", r[1].is_null() ? json(nullptr) : json(r[1].as<std::int64_t>())},
      {"kind", r[2].as<std::string>()},
      {"severity", r[3].as<std::string>()},
      {"subject", r[4].as<std::string>()},
      {"body", r[5].as<std::string>()},
      {"channel", r[6].as<std::string>()},
      {"status", r[7].as<std::string>()},
      {"owner",
       {{"key_id", r[8].as<std::int64_t>()}, {"label", r[9].is_null() ? "" : r[9].as<std::string>()}}},
      {"repeat_count", r[10].as<std::int64_t>()},
      {"created_at", At(r[11])},
      {"due_at", At(r[12])},
      {"responded_at", At(r[13])},
      {"resolved_at", At(r[14])},
      {"closed_at", At(r[15])}};
  // The deadline is breached when the first response came after it, or has not come and it passed.
  out["overdue"] = r[13].is_null() ? now > due : core::FromUnixMicros(r[13].as<std::int64_t>()) > due;
  return out;
}

}  // namespace

NewTicket ParseTicket(http::Fields& f) {
  NewTicket t;
  t.member_id = f.OptInt("member_id", 1, std::numeric_limits<std::int64_t>::max());
  t.kind = f.Enum("kind", {"inquiry", "suggestion", "complaint"});
  t.severity = f.OptEnum("severity", {"major", "normal"}).value_or("normal");
  t.subject = f.Str("subject", 200);
  t.body = f.OptStr("body", 10000).value_or("");
  t.channel = f.OptStr("channel", 32).value_or("phone");
  return t;
}

TicketChange ParseTicketChange(const nlohmann::json& body, http::Fields& f) {
  TicketChange c;
  c.status = f.OptEnum("status", {"open", "in_progress", "resolved", "closed"});
  c.note = f.OptStr("note", 10000);
  if (const auto* raw = f.Raw("repeat_contact")) {
    if (raw->is_boolean()) {
      c.repeat_contact = raw->get<bool>();
    } else {
      f.Error("repeat_contact", "must be true or false");
    }
  }
  if (!c.status && !c.note && !c.repeat_contact && f.ok()) {
    f.Error("status", "give a status, a note or repeat_contact: true");
  }
  return c;
}

core::Instant DueAt(const std::string& severity, core::Instant opened) {
  return opened + std::chrono::hours(severity == "major" ? 4 : 12);
}

bool AllowedTransition(const std::string& from, const std::string& to) {
  if (from == to) return true;
  if (from == "closed") return false;  // final
  if (to == "open") return false;      // a ticket is opened once; a resolved one reopens in progress
  return true;
}

json OpenTicket(db::Tx& tx, const tenancy::Principal& who, const NewTicket& t, core::Instant now) {
  if (t.member_id && !tx.ExecOne(store::kMemberExists, who.tenant_id, *t.member_id)) {
    throw DomainError(ErrorCode::kUnknownMember, "No member " + std::to_string(*t.member_id),
                      {{"member_id", "unknown member"}});
  }
  const std::optional<std::string> member =
      t.member_id ? std::optional(std::to_string(*t.member_id)) : std::nullopt;
  const auto id = tx.Exec(store::kInsertTicket, who.tenant_id, db::Nullable(member), t.kind, t.severity,
                          t.subject, t.body, t.channel, who.key_id, core::FormatRfc3339(now),
                          core::FormatRfc3339(DueAt(t.severity, now)))[0][0]
                      .as<std::int64_t>();
  return GetTicket(tx, who.tenant_id, id, now);
}

json ChangeTicket(db::Tx& tx, const tenancy::Principal& who, std::int64_t id, const TicketChange& c,
                  core::Instant now) {
  auto row = tx.ExecOne(store::kLockTicket, who.tenant_id, id);
  if (!row) throw DomainError(ErrorCode::kNotFound, "No ticket " + std::to_string(id));
  const auto current = (*row)[0].as<std::string>();
  if (current == "closed") {
    throw DomainError(ErrorCode::kConflict, "Ticket " + std::to_string(id) + " is closed",
                      {{"status", "a closed ticket does not change"}});
  }
  if (c.status && !AllowedTransition(current, *c.status)) {
    throw DomainError(ErrorCode::kConflict,
                      "Ticket " + std::to_string(id) + " cannot go from " + current + " to " + *c.status,
                      {{"status", "not reachable from " + current}});
  }
  const bool status_changes = c.status && *c.status != current;
  const auto at = core::FormatRfc3339(now);
  tx.Exec(store::kUpdateTicket, who.tenant_id, id, db::Nullable(status_changes ? c.status : std::nullopt), at,
          c.repeat_contact ? 1 : 0, status_changes || c.note.has_value());
  if (status_changes) {
    tx.Exec(store::kInsertEvent, who.tenant_id, id, at, who.key_id, "status", *c.status,
            db::Nullable(std::nullopt));
  }
  if (c.note)
    tx.Exec(store::kInsertEvent, who.tenant_id, id, at, who.key_id, "note", db::Nullable(std::nullopt),
            *c.note);
  if (c.repeat_contact) {
    tx.Exec(store::kInsertEvent, who.tenant_id, id, at, who.key_id, "repeat_contact",
            db::Nullable(std::nullopt), db::Nullable(std::nullopt));
  }
  return GetTicket(tx, who.tenant_id, id, now);
}

json GetTicket(db::Tx& tx, std::int64_t tenant_id, std::int64_t id, core::Instant now) {
  auto row = tx.ExecOne(store::kGetTicket, tenant_id, id);
  if (!row) throw DomainError(ErrorCode::kNotFound, "No ticket " + std::to_string(id));
  json out = TicketRow(*row, now);
  json history = json::array();
  for (const auto& e : tx.Exec(store::kTicketEvents, tenant_id, id)) {
    json item = {
        {"at", At(e[0])}, {"kind", e[1].as<std::string>()}, {"by", {{"key_id", e[4].as<std::int64_t>()}}}};
    item["by"]["label"] = e[5].is_null() ? "" : e[5].as<std::string>();
    if (!e[2].is_null()) item["status"] = e[2].as<std::string>();
    if (!e[3].is_null()) item["note"] = e[3].as<std::string>();
    history.push_back(std::move(item));
  }
  out["history"] = std::move(history);
  return out;
}

json ListTickets(db::Tx& tx, std::int64_t tenant_id, const std::optional<std::string>& status,
                 std::optional<bool> overdue, std::optional<std::int64_t> member_id,
                 std::optional<std::int64_t> after, int limit, core::Instant now) {
  auto rows =
      tx.Exec(store::kListTickets, tenant_id, db::Nullable(status),
              db::Nullable(overdue ? std::optional<std::string>(*overdue ? "true" : "false") : std::nullopt),
              core::FormatRfc3339(now), db::Nullable(db::OptNumber(member_id)),
              db::Nullable(db::OptNumber(after)), limit + 1);
  return http::Page(rows, limit, [now](const pqxx::row& r) { return TicketRow(r, now); });
}

}  // namespace unipoints::servicedesk
