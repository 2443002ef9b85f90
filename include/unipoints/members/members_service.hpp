#pragma once
// Members and cards: enrolment (identity numbers kept only as a keyed hash and a masked form),
// search, card loss and replacement.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"

namespace unipoints::members {

struct NewMember {
  std::string name, gender, id_type, id_number, phone;
  std::optional<std::string> email, address;
  std::optional<std::int64_t> issuing_partner_id;
};

struct Enrolled {
  std::int64_t member_id;
  std::string card_no;
};

// The member a card or id points at, with the card's state: what accrual and redemption check.
struct MemberRef {
  std::int64_t member_id = 0;
  std::string status;  // active, suspended, terminated
  std::string tier;
  std::optional<std::string> card_no;
  std::optional<std::string> card_status;
  std::optional<core::Instant> tier_since;  // nullopt: never graded
};

class MemberService {
 public:
  explicit MemberService(std::string identity_hash_key) : identity_hash_key_(std::move(identity_hash_key)) {}

  // Times (joined, issued, reported lost, replaced) are `now`, the business clock's.
  Enrolled Enrol(db::Tx& tx, std::int64_t tenant_id, const NewMember& m, core::Instant now) const;
  // Search by exactly one of card_no, phone, id_number.
  std::vector<nlohmann::json> Search(db::Tx& tx, std::int64_t tenant_id,
                                     const std::optional<std::string>& card_no,
                                     const std::optional<std::string>& phone,
                                     const std::optional<std::string>& id_number, int limit,
                                     std::optional<std::int64_t> after = std::nullopt) const;
  nlohmann::json Profile(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id) const;  // 404 if unknown
  // Sets the member's status (active, suspended, terminated) and answers the profile. Terminated is
  // final (409 to change it) and cancels the member's active cards.
  nlohmann::json SetStatus(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id,
                           const std::string& status, core::Instant now) const;
  nlohmann::json ReportLost(db::Tx& tx, std::int64_t tenant_id, const std::string& card_no,
                            core::Instant now) const;
  std::string ReplaceCard(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id,
                          std::optional<std::int64_t> issuing_partner_id, core::Instant now) const;

  // For accrual and redemption. Throw 422 unknown_card / unknown_member.
  static MemberRef ByCard(db::Tx& tx, std::int64_t tenant_id, const std::string& card_no, bool lock);
  static MemberRef ById(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id, bool lock);
  // 422 card_lost / card_not_active (when the ref came by card) or member_inactive.
  static void RequireUsable(const MemberRef& ref);
  // Locks the member row whatever the member's status (cancellations, reversals); 404 if unknown.
  static void LockAny(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id);
  // 404 unless the member exists in the tenant.
  static void RequireExists(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id);

  std::string IdentityHash(std::int64_t tenant_id, const std::string& normalised) const;

 private:
  std::string identity_hash_key_;
};

// Upper-case, without spaces and dashes: "110101 19900101 123x" → "11010119900101123X".
std::string NormaliseIdNumber(std::string_view raw);
// Keeps the first 3 and last 4 characters of long numbers: "110***********123X".
std::string MaskIdNumber(std::string_view normalised);

}  // namespace unipoints::members
