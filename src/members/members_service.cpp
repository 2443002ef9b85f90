#include "unipoints/members/members_service.hpp"

#include "members_store.hpp"
#include "unipoints/core/card_number.hpp"
#include "unipoints/core/crypto.hpp"
#include "unipoints/core/error.hpp"

namespace unipoints::members {
namespace {

using core::DomainError;
using core::ErrorCode;
using nlohmann::json;

std::optional<std::string> Opt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

json NullOr(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

json MemberRow(const pqxx::row& r) {
  return {{"member_id", r[0].as<std::int64_t>()},
          {"name", r[1].as<std::string>()},
          {"gender", r[2].as<std::string>()},
          {"id_type", r[3].as<std::string>()},
          {"id_number", r[4].as<std::string>()},
          {"phone", NullOr(Opt(r[5]))},
          {"email", NullOr(Opt(r[6]))},
          {"address", NullOr(Opt(r[7]))},
          {"status", r[8].as<std::string>()},
          {"tier", r[9].as<std::string>()},
          {"joined_at", r[10].as<std::string>()},
          {"issuing_partner", NullOr(Opt(r[11]))},
          {"tier_since", r[12].is_null()
                             ? json(nullptr)
                             : json(core::FormatRfc3339(core::FromUnixMicros(r[12].as<std::int64_t>())))}};
}

// A random 16-digit number: prefix 88, 13 random digits, Luhn check digit. Retried on collision.
std::string NewCardNumber() {
  auto hex = core::RandomHex(8);
  std::uint64_t n = std::stoull(hex, nullptr, 16) % 10'000'000'000'000ULL;
  return core::MakeCardNumber(core::CardBodyFromNumber(n, core::kCardPrefix, core::kCardBodyLength));
}

std::string IssueCard(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id,
                      std::optional<std::int64_t> issuing_partner_id,
                      const std::optional<std::string>& replaces, core::Instant at) {
  std::optional<std::string> partner =
      issuing_partner_id ? std::optional(std::to_string(*issuing_partner_id)) : std::nullopt;
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto card = NewCardNumber();
    auto r = tx.Exec(store::kInsertCard, tenant_id, card, member_id, db::Nullable(partner),
                     db::Nullable(replaces), core::FormatRfc3339(at));
    if (!r.empty()) return card;
  }
  throw std::runtime_error("could not find a free card number");
}

}  // namespace

std::string NormaliseIdNumber(std::string_view raw) {
  std::string out;
  for (char c : raw) {
    if (c == ' ' || c == '-') continue;
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string MaskIdNumber(std::string_view n) {
  if (n.size() >= 10)
    return std::string(n.substr(0, 3)) + std::string(n.size() - 7, '*') + std::string(n.substr(n.size() - 4));
  if (n.size() >= 4) return std::string(n.size() - 2, '*') + std::string(n.substr(n.size() - 2));
  return std::string(n.size(), '*');
}

std::string MemberService::IdentityHash(std::int64_t tenant_id, const std::string& normalised) const {
  return core::HmacSha256Hex(identity_hash_key_, std::to_string(tenant_id) + ":" + normalised);
}

Enrolled MemberService::Enrol(db::Tx& tx, std::int64_t tenant_id, const NewMember& m,
                              core::Instant now) const {
  const auto normalised = NormaliseIdNumber(m.id_number);
  std::optional<std::string> partner =
      m.issuing_partner_id ? std::optional(std::to_string(*m.issuing_partner_id)) : std::nullopt;
  std::optional<std::string> phone = m.phone.empty() ? std::nullopt : std::optional(m.phone);
  const auto hash = IdentityHash(tenant_id, normalised);
  auto r = tx.Exec(store::kInsertMember, tenant_id, m.name, m.gender, m.id_type, hash,
                   MaskIdNumber(normalised), db::Nullable(phone), db::Nullable(m.email),
                   db::Nullable(m.address), db::Nullable(partner), core::FormatRfc3339(now));
  if (r.empty()) {
    auto existing = tx.ExecOne(store::kFindByIdHash, tenant_id, hash);
    throw DomainError(ErrorCode::kAlreadyExists,
                      "A member with this identity number exists: member " +
                          (existing ? std::to_string((*existing)[0].as<std::int64_t>()) : std::string("?")),
                      {{"id_number", "already enrolled"}});
  }
  const auto member_id = r[0][0].as<std::int64_t>();
  tx.Exec(store::kInsertBalance, tenant_id, member_id);
  return Enrolled{member_id, IssueCard(tx, tenant_id, member_id, m.issuing_partner_id, std::nullopt, now)};
}

std::vector<json> MemberService::Search(db::Tx& tx, std::int64_t tenant_id,
                                        const std::optional<std::string>& card_no,
                                        const std::optional<std::string>& phone,
                                        const std::optional<std::string>& id_number, int limit,
                                        std::optional<std::int64_t> after) const {
  pqxx::result r;
  if (card_no) {
    r = tx.Exec(store::kSearchByCard, tenant_id, *card_no);
  } else if (phone) {
    r = tx.Exec(store::kSearchByPhone, tenant_id, *phone, limit, db::Nullable(db::OptNumber(after)));
  } else {
    r = tx.Exec(store::kSearchByIdHash, tenant_id, IdentityHash(tenant_id, NormaliseIdNumber(*id_number)));
  }
  std::vector<json> out;
  for (const auto& row : r) {
    auto member = MemberRow(row);
    if (after && member["member_id"].get<std::int64_t>() <= *after) continue;  // past the cursor
    out.push_back(std::move(member));
  }
  return out;
}

json MemberService::Profile(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id) const {
  auto row = tx.ExecOne(store::kGetMember, tenant_id, member_id);
  if (!row) throw DomainError(ErrorCode::kNotFound, "No member " + std::to_string(member_id));
  json out = MemberRow(*row);
  json cards = json::array();
  for (const auto& c : tx.Exec(store::kMemberCards, tenant_id, member_id)) {
    cards.push_back({{"card_no", c[0].as<std::string>()},
                     {"status", c[1].as<std::string>()},
                     {"issuing_partner", NullOr(Opt(c[2]))},
                     {"issued_at", c[3].as<std::string>()},
                     {"replaces", NullOr(Opt(c[4]))}});
  }
  out["cards"] = std::move(cards);
  return out;
}

json MemberService::ReportLost(db::Tx& tx, std::int64_t tenant_id, const std::string& card_no,
                               core::Instant now) const {
  auto current = tx.ExecOne(store::kCardStatus, tenant_id, card_no);
  if (!current) throw DomainError(ErrorCode::kNotFound, "No card " + card_no);
  const auto status = (*current)[0].as<std::string>();
  if (status == "active") {
    tx.Exec(store::kReportLost, tenant_id, card_no, core::FormatRfc3339(now));
  } else if (status != "lost") {
    throw DomainError(ErrorCode::kConflict, "The card is " + status + ", not active");
  }
  return {{"card_no", card_no}, {"status", "lost"}, {"member_id", (*current)[1].as<std::int64_t>()}};
}

json MemberService::SetStatus(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id,
                              const std::string& status, core::Instant now) const {
  auto row = tx.ExecOne(store::kLockMember, tenant_id, member_id);
  if (!row) throw DomainError(ErrorCode::kNotFound, "No member " + std::to_string(member_id));
  const auto current = (*row)[0].as<std::string>();
  if (current == "terminated" && status != "terminated") {
    throw DomainError(ErrorCode::kConflict,
                      "Member " + std::to_string(member_id) + " is terminated; that is final",
                      {{"status", "a terminated member stays terminated"}});
  }
  if (current != status) {
    tx.Exec(store::kSetMemberStatus, tenant_id, member_id, status);
    if (status == "terminated") tx.Exec(store::kCancelCards, tenant_id, member_id, core::FormatRfc3339(now));
  }
  return Profile(tx, tenant_id, member_id);
}

std::string MemberService::ReplaceCard(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id,
                                       std::optional<std::int64_t> issuing_partner_id,
                                       core::Instant now) const {
  auto row = tx.ExecOne(store::kLockMember, tenant_id, member_id);
  if (!row) throw DomainError(ErrorCode::kNotFound, "No member " + std::to_string(member_id));
  if (const auto status = (*row)[0].as<std::string>(); status != "active") {
    throw DomainError(ErrorCode::kMemberInactive, "Member " + std::to_string(member_id) + " is " + status,
                      {{"member_id", "is " + status}});
  }
  auto retired = tx.Exec(store::kRetireCards, tenant_id, member_id, core::FormatRfc3339(now));
  std::optional<std::string> replaces;
  if (!retired.empty()) replaces = retired[0][0].as<std::string>();
  return IssueCard(tx, tenant_id, member_id, issuing_partner_id, replaces, now);
}

MemberRef MemberService::ByCard(db::Tx& tx, std::int64_t tenant_id, const std::string& card_no, bool lock) {
  auto row = tx.ExecOne(lock ? store::kMemberByCardLocked : store::kMemberByCard, tenant_id, card_no);
  if (!row) throw DomainError(ErrorCode::kUnknownCard, "No card " + card_no, {{"card_no", "unknown card"}});
  MemberRef ref{(*row)[0].as<std::int64_t>(), (*row)[1].as<std::string>(),
                (*row)[2].as<std::string>(),  card_no,
                (*row)[3].as<std::string>(),  std::nullopt};
  if (!(*row)[4].is_null()) ref.tier_since = core::FromUnixMicros((*row)[4].as<std::int64_t>());
  RequireUsable(ref);
  return ref;
}

MemberRef MemberService::ById(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id, bool lock) {
  auto row = tx.ExecOne(lock ? store::kMemberByIdLocked : store::kMemberById, tenant_id, member_id);
  if (!row) {
    throw DomainError(ErrorCode::kUnknownMember, "No member " + std::to_string(member_id),
                      {{"member_id", "unknown member"}});
  }
  MemberRef ref{
      member_id,   (*row)[1].as<std::string>(), (*row)[2].as<std::string>(), std::nullopt, std::nullopt,
      std::nullopt};
  if (!(*row)[4].is_null()) ref.tier_since = core::FromUnixMicros((*row)[4].as<std::int64_t>());
  RequireUsable(ref);
  return ref;
}

void MemberService::RequireUsable(const MemberRef& ref) {
  if (ref.card_no && ref.card_status) {
    const auto& card_no = *ref.card_no;
    if (*ref.card_status == "lost") {
      throw DomainError(ErrorCode::kCardLost, "Card " + card_no + " was reported lost",
                        {{"card_no", "card is lost"}});
    }
    if (*ref.card_status != "active") {
      throw DomainError(ErrorCode::kCardNotActive, "Card " + card_no + " is " + *ref.card_status,
                        {{"card_no", "card is " + *ref.card_status}});
    }
  }
  if (ref.status != "active") {
    const char* field = ref.card_no ? "card_no" : "member_id";
    throw DomainError(ErrorCode::kMemberInactive, "The member is " + ref.status,
                      {{field, "member is " + ref.status}});
  }
}

void MemberService::LockAny(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id) {
  if (!tx.ExecOne(store::kLockMember, tenant_id, member_id)) {
    throw DomainError(ErrorCode::kNotFound, "No member " + std::to_string(member_id));
  }
}

void MemberService::RequireExists(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id) {
  if (!tx.ExecOne(store::kMemberExists, tenant_id, member_id)) {
    throw DomainError(ErrorCode::kNotFound, "No member " + std::to_string(member_id));
  }
}

}  // namespace unipoints::members
