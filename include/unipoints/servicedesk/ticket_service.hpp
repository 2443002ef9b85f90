#pragma once
// The service desk: inquiries, suggestions and complaints with response deadlines (major 4 h,
// normal 12 h), status (open, in_progress, resolved, closed), an owner (the key that opened the
// ticket, to the end), repeat contacts counted on the same ticket, and the full history.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/tenancy/principal.hpp"

namespace unipoints::servicedesk {

struct NewTicket {
  std::optional<std::int64_t> member_id;
  std::string kind;      // inquiry | suggestion | complaint
  std::string severity;  // major | normal
  std::string subject;
  std::string body;
  std::string channel;
};

struct TicketChange {
  std::optional<std::string> status;
  std::optional<std::string> note;
  bool repeat_contact = false;
};

// Reads a new ticket's fields into `f` (errors are collected there).
NewTicket ParseTicket(http::Fields& f);
TicketChange ParseTicketChange(const nlohmann::json& body, http::Fields& f);

// The deadline to respond by: 4 hours after opening for a major ticket, 12 for a normal one.
core::Instant DueAt(const std::string& severity, core::Instant opened);
// Whether a status change from `from` to `to` is allowed (closed is final; resolved may reopen).
bool AllowedTransition(const std::string& from, const std::string& to);

nlohmann::json OpenTicket(db::Tx& tx, const tenancy::Principal& who, const NewTicket& t, core::Instant now);
nlohmann::json ChangeTicket(db::Tx& tx, const tenancy::Principal& who, std::int64_t id, const TicketChange& c,
                            core::Instant now);
// One ticket with its history; 404 if unknown.
nlohmann::json GetTicket(db::Tx& tx, std::int64_t tenant_id, std::int64_t id, core::Instant now);
nlohmann::json ListTickets(db::Tx& tx, std::int64_t tenant_id, const std::optional<std::string>& status,
                           std::optional<bool> overdue, std::optional<std::int64_t> member_id,
                           std::optional<std::int64_t> after, int limit, core::Instant now);

}  // namespace unipoints::servicedesk
