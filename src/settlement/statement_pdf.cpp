#include "unipoints/settlement/statement_pdf.hpp"

#include <hpdf.h>

#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "unipoints/settlement/statement_service.hpp"

namespace unipoints::settlement {
namespace {

using nlohmann::json;

// libharu reports errors through a C callback: record them, never throw through C frames.
struct HpdfError {
  HPDF_STATUS code = 0;
  HPDF_STATUS detail = 0;
};

void OnError(HPDF_STATUS code, HPDF_STATUS detail, void* user) {
  auto* e = static_cast<HpdfError*>(user);
  if (e->code == 0) {
    e->code = code;
    e->detail = detail;
  }
}

std::string Text(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

class Writer {
 public:
  Writer(HPDF_Doc pdf, HPDF_Font font) : pdf_(pdf), font_(font) { NewPage(); }

  void Title(const std::string& s) { Line({{s, 0, false}}, 16, 26); }
  void Heading(const std::string& s) {
    Gap(8);
    Line({{s, 0, false}}, 12, 18);
  }
  // Cells at x offsets; right-aligned cells end at their x.
  struct Cell {
    std::string text;
    float x;
    bool right;
  };
  void Line(const std::vector<Cell>& cells, float size = 9, float advance = 13) {
    if (y_ - advance < kMargin) NewPage();
    y_ -= advance;
    HPDF_Page_SetFontAndSize(page_, font_, size);
    for (const auto& c : cells) {
      float x = kMargin + c.x;
      if (c.right) x -= HPDF_Page_TextWidth(page_, c.text.c_str());
      HPDF_Page_BeginText(page_);
      HPDF_Page_TextOut(page_, x, y_, c.text.c_str());
      HPDF_Page_EndText(page_);
    }
  }
  void Gap(float h) { y_ -= h; }

 private:
  static constexpr float kMargin = 40;
  void NewPage() {
    page_ = HPDF_AddPage(pdf_);
    HPDF_Page_SetSize(page_, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    y_ = HPDF_Page_GetHeight(page_) - kMargin;
  }
  HPDF_Doc pdf_;
  HPDF_Font font_;
  HPDF_Page page_ = nullptr;
  float y_ = 0;
};

}  // namespace

std::string StatementPdf(const json& statement, const std::string& font_path) {
  HpdfError err;
  HPDF_Doc pdf = HPDF_New(OnError, &err);
  if (pdf == nullptr) throw std::runtime_error("libharu: cannot create a document");
  std::string out;
  try {
    const auto& h = statement.at("header");
    const int mu = h.value("minor_units", 2);
    auto money = [mu](const json& v) { return FormatMinor(v.get<std::int64_t>(), mu); };
    HPDF_SetCompressionMode(pdf, HPDF_COMP_ALL);
    HPDF_SetInfoAttr(pdf, HPDF_INFO_PRODUCER, "unipoints");
    HPDF_SetInfoAttr(pdf, HPDF_INFO_TITLE,
                     ("Statement " + Text(h, "period") + " " + Text(h, "partner")).c_str());
    HPDF_UseUTFEncodings(pdf);
    HPDF_SetCurrentEncoder(pdf, "UTF-8");
    const bool collection = font_path.size() > 4 && font_path.substr(font_path.size() - 4) == ".ttc";
    const char* name = collection ? HPDF_LoadTTFontFromFile2(pdf, font_path.c_str(), 0, HPDF_TRUE)
                                  : HPDF_LoadTTFontFromFile(pdf, font_path.c_str(), HPDF_TRUE);
    if (name == nullptr || err.code != 0) throw std::runtime_error("libharu: cannot load font " + font_path);
    HPDF_Font font = HPDF_GetFont(pdf, name, "UTF-8");
    Writer w(pdf, font);

    w.Title("结算单 Settlement statement " + Text(h, "period"));
    for (const auto& [label, key] :
         std::vector<std::pair<std::string, const char*>>{{"联盟 Alliance", "tenant_name"},
                                                          {"伙伴 Partner", "partner_name"},
                                                          {"代码 Code", "partner"},
                                                          {"币种 Currency", "currency"},
                                                          {"状态 Status", "status"},
                                                          {"期间 From", "starts_at"},
                                                          {"至 Until", "ends_at"},
                                                          {"哈希 Content hash", "content_hash"}}) {
      w.Line({{label, 0, false}, {Text(h, key), 130, false}});
    }
    const auto& pos = statement.at("position");
    w.Heading("净头寸 Net position (" + Text(h, "currency") + ")");
    w.Line({{"应收 Receivable", 0, false}, {money(pos.at("receivable_minor")), 300, true}});
    w.Line({{"应付 Payable", 0, false}, {money(pos.at("payable_minor")), 300, true}});
    w.Line({{"净额 Net", 0, false}, {money(pos.at("net_minor")), 300, true}});

    for (const auto& [title, key] :
         std::vector<std::pair<std::string, const char*>>{{"应收 Receivables by counterparty", "receivables"},
                                                          {"应付 Payables by counterparty", "payables"}}) {
      w.Heading(title);
      w.Line({{"Counterparty", 0, false},
              {"Points", 250, true},
              {"Price/point", 340, true},
              {"Amount", 430, true}});
      for (const auto& l : statement.at(key)) {
        w.Line({{Text(l, "counterparty") + " " + Text(l, "counterparty_name"), 0, false},
                {Text(l, "points"), 250, true},
                {Text(l, "price_per_point"), 340, true},
                {money(l.at("amount_minor")), 430, true}});
      }
    }
    w.Heading("撤销 Cancellations (points)");
    for (const auto& c : statement.at("cancellations")) {
      w.Line({{Text(c, "payer") + " -> " + Text(c, "payee"), 0, false}, {Text(c, "points"), 250, true}});
    }
    w.Heading("前期调整 Prior-period adjustments (points)");
    for (const auto& c : statement.at("prior_period_adjustments")) {
      w.Line({{Text(c, "payer") + " -> " + Text(c, "payee") + "  #" + Text(c, "redemption_id") + " (" +
                   Text(c, "original_period") + ")",
               0, false},
              {Text(c, "points"), 330, true}});
    }
    w.Heading("双边轧差 Bilateral nets");
    for (const auto& n : statement.at("bilateral_nets")) {
      const auto payer = Text(n, "payer");
      w.Line({{Text(n, "a") + " / " + Text(n, "b"), 0, false},
              {payer.empty() ? "-" : payer + " pays " + Text(n, "payee"), 120, false},
              {money(n.at("net_minor")), 430, true}});
    }
    w.Heading("付款指令 Payment instructions");
    for (const auto& i : statement.at("instructions")) {
      w.Line(
          {{Text(i, "from") + " -> " + Text(i, "to"), 0, false}, {money(i.at("amount_minor")), 430, true}});
    }
    w.Heading("积分清零 Breakage: points you issued that expired in the period");
    const auto& breakage = statement.at("breakage");
    w.Line({{"过期 Expired", 0, false}, {Text(breakage, "points_expired"), 250, true}});
    w.Line({{"结转 Carried over", 0, false}, {Text(breakage, "points_carried_over"), 250, true}});
    w.Heading("明细 Redemption detail");
    w.Line({{"Redemption", 0, false},
            {"Booked at", 70, false},
            {"Kind", 230, false},
            {"Source", 310, false},
            {"Fulfiller", 360, false},
            {"Points", 480, true}});
    for (const auto& d : statement.at("detail")) {
      w.Line({{Text(d, "redemption_id"), 0, false},
              {Text(d, "booked_at"), 70, false},
              {Text(d, "kind"), 230, false},
              {Text(d, "source"), 310, false},
              {Text(d, "fulfiller"), 360, false},
              {Text(d, "points"), 480, true}});
    }
    if (err.code != 0) throw std::runtime_error("libharu error " + std::to_string(err.code));
    if (HPDF_SaveToStream(pdf) != HPDF_OK) throw std::runtime_error("libharu: cannot save");
    HPDF_ResetStream(pdf);
    std::vector<HPDF_BYTE> buf(64 * 1024);
    for (;;) {
      HPDF_UINT32 n = static_cast<HPDF_UINT32>(buf.size());
      const auto status = HPDF_ReadFromStream(pdf, buf.data(), &n);
      out.append(reinterpret_cast<const char*>(buf.data()), n);
      if (status == HPDF_STREAM_EOF) break;
      if (status != HPDF_OK) throw std::runtime_error("libharu: cannot read the document");
    }
  } catch (...) {
    HPDF_Free(pdf);
    throw;
  }
  HPDF_Free(pdf);
  return out;
}

}  // namespace unipoints::settlement
