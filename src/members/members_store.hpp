#pragma once
// SQL for members and cards.

#include "unipoints/db/database.hpp"

namespace unipoints::members::store {

#define UP_MEMBER_COLUMNS                                                                          \
  "m.id, m.name, m.gender, m.id_type, m.id_masked, m.phone, m.email, m.address, m.status, m.tier," \
  " to_char(m.joined_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), p.code,"            \
  " (extract(epoch FROM m.tier_since) * 1000000)::bigint"

inline constexpr db::Query kInsertMember{
    "member_insert",
    "INSERT INTO members (tenant_id, name, gender, id_type, id_hash, id_masked, phone, email, address,"
    " issuing_partner_id, joined_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::bigint, "
    "$11::timestamptz)"
    " ON CONFLICT (tenant_id, id_hash) DO NOTHING RETURNING id"};
inline constexpr db::Query kFindByIdHash{"member_by_id_hash",
                                         "SELECT id FROM members WHERE tenant_id = $1 AND id_hash = $2"};
inline constexpr db::Query kInsertBalance{
    "member_balance_insert", "INSERT INTO member_balances (tenant_id, member_id) VALUES ($1, $2)"};
inline constexpr db::Query kInsertCard{
    "card_insert",
    "INSERT INTO cards (tenant_id, card_no, member_id, issuing_partner_id, replaces_card_no, issued_at,"
    " status_changed_at) VALUES ($1, $2, $3, $4::bigint, $5, $6::timestamptz, $6::timestamptz)"
    " ON CONFLICT DO NOTHING RETURNING card_no"};
inline constexpr db::Query kSearchByCard{
    "member_search_card", "SELECT " UP_MEMBER_COLUMNS
                          " FROM cards c JOIN members m ON m.tenant_id = c.tenant_id AND m.id = c.member_id"
                          " LEFT JOIN partners p ON p.tenant_id = m.tenant_id AND p.id = m.issuing_partner_id"
                          " WHERE c.tenant_id = $1 AND c.card_no = $2"};
inline constexpr db::Query kSearchByPhone{
    "member_search_phone",
    "SELECT " UP_MEMBER_COLUMNS
    " FROM members m"
    " LEFT JOIN partners p ON p.tenant_id = m.tenant_id AND p.id = m.issuing_partner_id"
    " WHERE m.tenant_id = $1 AND m.phone = $2 AND ($4::bigint IS NULL OR m.id > $4::bigint) ORDER BY m.id "
    "LIMIT $3"};
inline constexpr db::Query kSearchByIdHash{
    "member_search_id_hash",
    "SELECT " UP_MEMBER_COLUMNS
    " FROM members m"
    " LEFT JOIN partners p ON p.tenant_id = m.tenant_id AND p.id = m.issuing_partner_id"
    " WHERE m.tenant_id = $1 AND m.id_hash = $2"};
inline constexpr db::Query kGetMember{
    "member_get", "SELECT " UP_MEMBER_COLUMNS
                  " FROM members m"
                  " LEFT JOIN partners p ON p.tenant_id = m.tenant_id AND p.id = m.issuing_partner_id"
                  " WHERE m.tenant_id = $1 AND m.id = $2"};
inline constexpr db::Query kMemberCards{
    "member_cards",
    "SELECT c.card_no, c.status, p.code,"
    " to_char(c.issued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), c.replaces_card_no"
    " FROM cards c LEFT JOIN partners p ON p.tenant_id = c.tenant_id AND p.id = c.issuing_partner_id"
    " WHERE c.tenant_id = $1 AND c.member_id = $2 ORDER BY c.issued_at, c.card_no"};
inline constexpr db::Query kReportLost{
    "card_report_lost",
    "UPDATE cards SET status = 'lost', status_changed_at = $3::timestamptz"
    " WHERE tenant_id = $1 AND card_no = $2 AND status = 'active' RETURNING card_no"};
inline constexpr db::Query kCardStatus{
    "card_status", "SELECT status, member_id FROM cards WHERE tenant_id = $1 AND card_no = $2"};
// The cards a new one replaces: active ones become 'replaced'; a lost card stays 'lost' (a POS
// that is shown it still learns it was reported lost).
inline constexpr db::Query kRetireCards{
    "cards_retire",
    "WITH c AS (SELECT card_no, status FROM cards WHERE tenant_id = $1 AND member_id = $2"
    "   AND status IN ('active', 'lost') ORDER BY card_no FOR UPDATE),"
    " u AS (UPDATE cards SET status = 'replaced', status_changed_at = $3::timestamptz"
    "   WHERE tenant_id = $1 AND card_no IN (SELECT card_no FROM c WHERE status = 'active'))"
    " SELECT card_no, CASE status WHEN 'active' THEN 'replaced' ELSE status END FROM c"
    " ORDER BY status = 'lost' DESC, card_no"};
inline constexpr db::Query kMemberByCard{"member_ref_by_card",
                                         "SELECT m.id, m.status, m.tier, c.status, (extract(epoch FROM "
                                         "m.tier_since) * 1000000)::bigint FROM cards c"
                                         " JOIN members m ON m.tenant_id = c.tenant_id AND m.id = c.member_id"
                                         " WHERE c.tenant_id = $1 AND c.card_no = $2"};
inline constexpr db::Query kMemberById{
    "member_ref_by_id",
    "SELECT m.id, m.status, m.tier, NULL, (extract(epoch FROM m.tier_since) * 1000000)::bigint FROM members "
    "m WHERE m.tenant_id = $1 AND m.id = $2"};
// The same, locking the member row: a member's point movements are serialised on it.
inline constexpr db::Query kMemberByCardLocked{
    "member_ref_by_card_locked",
    "SELECT m.id, m.status, m.tier, c.status, (extract(epoch FROM m.tier_since) * 1000000)::bigint FROM "
    "cards c"
    " JOIN members m ON m.tenant_id = c.tenant_id AND m.id = c.member_id"
    " WHERE c.tenant_id = $1 AND c.card_no = $2 FOR UPDATE OF m"};
inline constexpr db::Query kMemberByIdLocked{
    "member_ref_by_id_locked",
    "SELECT m.id, m.status, m.tier, NULL, (extract(epoch FROM m.tier_since) * 1000000)::bigint FROM members "
    "m WHERE m.tenant_id = $1 AND m.id = $2 FOR UPDATE"};
inline constexpr db::Query kLockMember{
    "member_lock", "SELECT status FROM members WHERE tenant_id = $1 AND id = $2 FOR UPDATE"};
inline constexpr db::Query kSetMemberStatus{
    "member_set_status", "UPDATE members SET status = $3 WHERE tenant_id = $1 AND id = $2"};
// A terminated member's active cards are cancelled (a lost one stays lost).
inline constexpr db::Query kCancelCards{
    "cards_cancel",
    "UPDATE cards SET status = 'cancelled', status_changed_at = $3::timestamptz"
    " WHERE tenant_id = $1 AND member_id = $2 AND status = 'active'"};
inline constexpr db::Query kMemberExists{"member_exists",
                                         "SELECT 1 FROM members WHERE tenant_id = $1 AND id = $2"};

}  // namespace unipoints::members::store
