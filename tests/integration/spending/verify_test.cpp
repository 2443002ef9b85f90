// `unipoints verify`: passes on a database written only through the API, and names the tenant and
// member of the first invariant a direct SQL change breaks.

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class VerifyTest : public IntegrationTest {
 protected:
  static std::string Show(const CliResult& r) {
    return "exit " + std::to_string(r.exit_code) + "\n--- stdout ---\n" + r.out.substr(0, 2000) +
           "\n--- stderr ---\n" + r.err.substr(0, 2000);
  }

  // A tenant with every kind of movement: accruals, a reversal into debt, a transfer, adjustments
  // (one approved by a second key). Returns the member that owes debt.
  Enrolled Busy(const Alliance& a) {
    auto m1 = Enrol(a.agent);
    auto m2 = Enrol(a.r_key);
    const auto event = NewEventId();
    EXPECT_EQ(http().Post("/v1/accruals", AmountEvent(event, m1.card_no, "retail", 10000), a.r_key).status,
              201);
    EXPECT_EQ(
        http().Post("/v1/accruals", AmountEvent(NewEventId(), m1.card_no, "data", 2500), a.t_key).status,
        201);
    EXPECT_EQ(http()
                  .Post("/v1/transfers",
                        {{"request_id", Unique("v-")},
                         {"from_member", m1.member_id},
                         {"to_member", m2.member_id},
                         {"points", 120}},
                        a.agent)
                  .status,
              201);
    EXPECT_EQ(http()
                  .Post("/v1/accruals/" + event + "/reversals",
                        {{"reversal_id", Unique("v-")}, {"amount_minor", 10000}, {"reason", "退货"}}, a.r_key)
                  .status,
              201);
    EXPECT_EQ(http()
                  .Post("/v1/adjustments",
                        {{"request_id", Unique("v-")},
                         {"member_id", m2.member_id},
                         {"points", -20},
                         {"reason", "更正"}},
                        a.agent)
                  .status,
              201);
    auto big = http().Post(
        "/v1/adjustments",
        {{"request_id", Unique("v-")}, {"member_id", m2.member_id}, {"points", 5000}, {"reason", "补偿"}},
        a.agent);
    EXPECT_EQ(big.status, 202) << big;
    auto approved = http().Call(
        "POST", "/v1/adjustments/" + std::to_string(big.json.value("adjustment_id", 0)) + "/approve",
        std::nullopt, a.admin);
    EXPECT_EQ(approved.status, 200) << approved;
    auto b = Balance(a.agent, m1.member_id);
    EXPECT_GT(b["debt"].get<std::int64_t>(), 0) << b;
    return m1;
  }
};

TEST_F(VerifyTest, PassesOnAHealthyDatabase) {
  auto a = CreateAlliance();
  Busy(a);
  auto r = server().RunCli({"verify"});
  EXPECT_EQ(r.exit_code, 0) << Show(r);
  EXPECT_EQ(r.out.rfind("ok: ", 0), 0u) << Show(r);
  EXPECT_NE(r.out.find(" members, "), std::string::npos) << Show(r);
  EXPECT_NE(r.out.find(" lots checked"), std::string::npos) << Show(r);
  auto one = server().RunCli({"verify", "--tenant", a.tenant.code()});
  EXPECT_EQ(one.exit_code, 0) << Show(one);
  // Busy enrols two members; lots: R and T of the first, the two pieces it gave, one credit.
  EXPECT_EQ(one.out, "ok: 2 members, 5 lots checked\n") << Show(one);
}

TEST_F(VerifyTest, NamesTheMemberWhoseHeldTotalWasCorrupted) {
  auto a = CreateAlliance();
  auto m = Busy(a);
  const auto id = std::to_string(m.member_id);
  server().Sql("UPDATE member_balances SET held = held + 1 WHERE member_id = $1", {id});
  auto r = server().RunCli({"verify"});
  server().Sql("UPDATE member_balances SET held = held - 1 WHERE member_id = $1", {id});
  EXPECT_NE(r.exit_code, 0) << Show(r);
  const auto all = r.out + r.err;
  EXPECT_NE(all.find("member " + id), std::string::npos) << Show(r);
  EXPECT_NE(all.find("tenant " + a.tenant.code()), std::string::npos) << Show(r);
  EXPECT_NE(all.find("held"), std::string::npos) << Show(r);
  EXPECT_EQ(all.find("ok: "), std::string::npos) << Show(r);
  EXPECT_EQ(server().RunCli({"verify"}).exit_code, 0);
}

TEST_F(VerifyTest, OnlyTheNamedTenantIsChecked) {
  auto a = CreateAlliance();
  auto b = CreateAlliance();
  auto m = Busy(a);
  Busy(b);
  const auto id = std::to_string(m.member_id);
  server().Sql("UPDATE member_balances SET lifetime = lifetime + 7 WHERE member_id = $1", {id});
  auto other = server().RunCli({"verify", "--tenant", b.tenant.code()});
  auto mine = server().RunCli({"verify", "--tenant", a.tenant.code()});
  server().Sql("UPDATE member_balances SET lifetime = lifetime - 7 WHERE member_id = $1", {id});
  EXPECT_EQ(other.exit_code, 0) << Show(other);
  EXPECT_NE(mine.exit_code, 0) << Show(mine);
  EXPECT_NE((mine.out + mine.err).find("member " + id), std::string::npos) << Show(mine);
  EXPECT_NE((mine.out + mine.err).find("lifetime"), std::string::npos) << Show(mine);
  auto unknown = server().RunCli({"verify", "--tenant", "NO-SUCH-TENANT"});
  EXPECT_NE(unknown.exit_code, 0) << Show(unknown);
}

TEST_F(VerifyTest, CatchesLotsAndLedgerOutOfStep) {
  auto a = CreateAlliance();
  Busy(a);
  auto lot = server().Sql(
      "SELECT id, member_id FROM lots WHERE tenant_id = $1 AND remaining > 0 ORDER BY id LIMIT 1",
      {std::to_string(a.tenant.id())});
  ASSERT_EQ(lot.size(), 1u);
  const auto lot_id = *lot[0][0];
  const auto member = *lot[0][1];
  // A point vanishes from a lot and from held alike: they agree, the ledger does not.
  server().Sql("UPDATE lots SET remaining = remaining - 1 WHERE id = $1", {lot_id});
  server().Sql("UPDATE member_balances SET held = held - 1 WHERE member_id = $1", {member});
  auto r = server().RunCli({"verify", "--tenant", a.tenant.code()});
  server().Sql("UPDATE lots SET remaining = remaining + 1 WHERE id = $1", {lot_id});
  server().Sql("UPDATE member_balances SET held = held + 1 WHERE member_id = $1", {member});
  EXPECT_NE(r.exit_code, 0) << Show(r);
  EXPECT_NE((r.out + r.err).find("member " + member), std::string::npos) << Show(r);
  EXPECT_NE((r.out + r.err).find("ledger"), std::string::npos) << Show(r);
  auto healed = server().RunCli({"verify", "--tenant", a.tenant.code()});
  EXPECT_EQ(healed.exit_code, 0) << Show(healed);
}

TEST_F(VerifyTest, CatchesAnAccrualWithoutItsLot) {
  auto a = CreateAlliance();
  Busy(a);
  auto lot = server().Sql(
      "SELECT id, accrual_id FROM lots WHERE tenant_id = $1 AND accrual_id IS NOT NULL ORDER BY id LIMIT 1",
      {std::to_string(a.tenant.id())});
  ASSERT_EQ(lot.size(), 1u);
  const auto lot_id = *lot[0][0];
  const auto accrual_id = *lot[0][1];
  // The lot forgets its accrual: the accrual has no lot (no foreign key keeps them together).
  server().Sql("UPDATE lots SET accrual_id = NULL WHERE id = $1", {lot_id});
  auto r = server().RunCli({"verify", "--tenant", a.tenant.code()});
  server().Sql("UPDATE lots SET accrual_id = $2 WHERE id = $1", {lot_id, accrual_id});
  EXPECT_NE(r.exit_code, 0) << Show(r);
  EXPECT_NE((r.out + r.err).find("accrual " + accrual_id + ": one lot"), std::string::npos) << Show(r);
  auto healed = server().RunCli({"verify", "--tenant", a.tenant.code()});
  EXPECT_EQ(healed.exit_code, 0) << Show(healed);
}

TEST_F(VerifyTest, CatchesARedemptionWhoseMemberOrLotIsGone) {
  auto a = CreateAlliance();
  Busy(a);
  const auto m = Enrol(a.agent);
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 5000), a.r_key).status,
            201);
  ASSERT_EQ(http()
                .Post("/v1/rewards",
                      {{"code", "V-LINK"}, {"partner", "R"}, {"name", "礼品"}, {"price", {{"points", 10}}}},
                      a.admin)
                .status,
            201);
  ASSERT_EQ(http()
                .Post("/v1/redemptions",
                      {{"request_id", Unique("v-")}, {"card_no", m.card_no}, {"reward", "V-LINK"}}, a.r_key)
                .status,
            201);
  const auto tenant = std::to_string(a.tenant.id());
  auto row = server().Sql("SELECT id, member_id FROM redemptions WHERE tenant_id = $1 ORDER BY id LIMIT 1",
                          {tenant});
  ASSERT_EQ(row.size(), 1u);
  const auto id = *row[0][0];
  const auto member = *row[0][1];
  // No foreign keys hold a redemption to its member or a consumption to its lot: verify does.
  server().Sql("UPDATE redemptions SET member_id = member_id + 1000000000 WHERE tenant_id = $1 AND id = $2",
               {tenant, id});
  auto r = server().RunCli({"verify", "--tenant", a.tenant.code()});
  server().Sql("UPDATE redemptions SET member_id = $3 WHERE tenant_id = $1 AND id = $2",
               {tenant, id, member});
  EXPECT_NE(r.exit_code, 0) << Show(r);
  EXPECT_NE((r.out + r.err).find("redemption " + id + " belongs to an existing member"), std::string::npos)
      << Show(r);

  const auto ref = "redemption:" + id;
  server().Sql("UPDATE lot_consumptions SET lot_id = lot_id + 1000000000 WHERE tenant_id = $1 AND ref = $2",
               {tenant, ref});
  r = server().RunCli({"verify", "--tenant", a.tenant.code()});
  server().Sql("UPDATE lot_consumptions SET lot_id = lot_id - 1000000000 WHERE tenant_id = $1 AND ref = $2",
               {tenant, ref});
  EXPECT_NE(r.exit_code, 0) << Show(r);
  EXPECT_NE((r.out + r.err).find("lot consumption " + ref), std::string::npos) << Show(r);
  auto healed = server().RunCli({"verify", "--tenant", a.tenant.code()});
  EXPECT_EQ(healed.exit_code, 0) << Show(healed);
}

TEST_F(VerifyTest, CatchesARedemptionWhoseRewardIsGone) {
  auto a = CreateAlliance();
  Busy(a);
  const auto m = Enrol(a.agent);
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 5000), a.r_key).status,
            201);
  ASSERT_EQ(http()
                .Post("/v1/rewards",
                      {{"code", "V-GIFT"}, {"partner", "R"}, {"name", "礼品"}, {"price", {{"points", 10}}}},
                      a.admin)
                .status,
            201);
  ASSERT_EQ(http()
                .Post("/v1/redemptions",
                      {{"request_id", Unique("v-")}, {"card_no", m.card_no}, {"reward", "V-GIFT"}}, a.r_key)
                .status,
            201);
  auto row = server().Sql("SELECT id, reward_id FROM redemptions WHERE tenant_id = $1 ORDER BY id LIMIT 1",
                          {std::to_string(a.tenant.id())});
  ASSERT_EQ(row.size(), 1u);
  const auto id = *row[0][0];
  const auto reward_id = *row[0][1];
  // No foreign key holds a redemption to its reward any more: verify does.
  server().Sql("UPDATE redemptions SET reward_id = reward_id + 1000000 WHERE id = $1", {id});
  auto r = server().RunCli({"verify", "--tenant", a.tenant.code()});
  server().Sql("UPDATE redemptions SET reward_id = $2 WHERE id = $1", {id, reward_id});
  EXPECT_NE(r.exit_code, 0) << Show(r);
  EXPECT_NE((r.out + r.err).find("redemption " + id + ": its reward exists"), std::string::npos) << Show(r);
  auto healed = server().RunCli({"verify", "--tenant", a.tenant.code()});
  EXPECT_EQ(healed.exit_code, 0) << Show(healed);
}

TEST_F(VerifyTest, Help) {
  auto r = server().RunCli({"verify", "--help"});
  EXPECT_EQ(r.exit_code, 0) << Show(r);
  EXPECT_NE(r.out.find("--tenant"), std::string::npos) << Show(r);
  auto top = server().RunCli({"--help"});
  EXPECT_NE(top.out.find("verify"), std::string::npos) << Show(top);
}

}  // namespace
}  // namespace unipoints::testing
