#include "reconciler/preview/preview_markdown.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "base/utf8.h"
#include "compiler/support/diagnostics.h"

namespace amlc::reconciler {
namespace {

using compiler::planner::Action;
using compiler::planner::ActionType;
using compiler::planner::Deferred;
using compiler::planner::FieldChange;
using compiler::planner::Plan;

constexpr size_t kShortCommitLength = 7;  // as git and the forges abbreviate commits
constexpr size_t kMaxValueBytes = 60;     // a field value longer than this is shortened
// A resource with at most this many lines of detail shows them all; one with
// more shows the first kDetailLinesBeforeFold and folds the rest, so a big
// update does not push the rest of the plan out of sight.
constexpr size_t kMaxUnfoldedDetailLines = 4;
constexpr size_t kDetailLinesBeforeFold = 3;

// ---------------------------------------------------------------- text helpers

// The longest prefix of `text` of at most `max_bytes` that does not split a
// UTF-8 sequence (a cut inside one would show as a replacement character).
std::string Utf8Prefix(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  return std::string(text.substr(0, Utf8CharStart(text, max_bytes)));
}

std::string Shorten(std::string_view text, size_t max_bytes) {
  static constexpr std::string_view kEllipsis = "…";
  if (text.size() <= max_bytes) return std::string(text);
  return Utf8Prefix(text, max_bytes - kEllipsis.size()) + std::string(kEllipsis);
}

// Markdown list items and code spans end at a line break: keep text on one line.
std::string OneLine(std::string_view text) {
  std::string out(text);
  std::replace_if(out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; },
                  ' ');
  return out;
}

size_t LongestBacktickRun(std::string_view text) {
  size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest;
}

// A code span that shows `text` literally, whatever backticks it holds.
std::string InlineCode(std::string_view raw) {
  std::string text = OneLine(raw);
  std::string ticks(LongestBacktickRun(text) + 1, '`');
  bool pad = text.empty() || text.front() == '`' || text.back() == '`' ||
             (text.front() == ' ' && text.back() == ' ');
  std::string space = pad ? " " : "";
  return ticks + space + text + space + ticks;
}

// Text from specs and state (reasons, messages) shown as plain text: markdown
// and HTML in it must not format the comment or break its <details> blocks.
std::string EscapeText(std::string_view raw) {
  std::string out;
  for (char c : OneLine(raw)) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '\\': case '`': case '*': case '_': case '[': case ']': case '|': case '~':
        out += '\\';
        out += c;
        break;
      default: out += c;
    }
  }
  return out;
}

std::string EscapeHtml(std::string_view raw) {
  std::string out;
  for (char c : OneLine(raw)) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Plural(size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    lines.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

// A fence longer than any backtick run in the content, so the content cannot close it.
std::string FenceFor(const std::vector<std::string>& lines) {
  size_t longest = 0;
  for (const std::string& line : lines) longest = std::max(longest, LongestBacktickRun(line));
  return std::string(std::max<size_t>(3, longest + 1), '`');
}

// ---------------------------------------------------------------- sections

// A part of the comment that can show only its first `shown` entries (and say
// how many it left out), so an over-long comment can be cut down part by part.
struct Section {
  size_t entries = 0;
  std::function<std::string(size_t shown)> render;
  bool trim_first = false;  // the folded full plan: the first to give way
};

// "\n##### Create (2)\n\n- …\n- …\n": a heading and one list item per entry.
Section ListSection(std::string heading, std::vector<std::string> items) {
  Section section;
  section.entries = items.size();
  section.render = [heading = std::move(heading), items = std::move(items)](size_t shown) {
    std::string out = "\n##### " + heading + " (" + std::to_string(items.size()) + ")\n\n";
    for (size_t i = 0; i < shown && i < items.size(); ++i) out += items[i];
    if (shown < items.size()) out += "- _… and " + std::to_string(items.size() - shown) + " more_\n";
    return out;
  };
  return section;
}

// Lines of text in a code fence between `before` and `after` (which may open
// and close a <details> block); trimmed by lines.
Section FencedSection(std::string before, const std::string& text, std::string info,
                      std::string after) {
  std::vector<std::string> lines = SplitLines(text);
  std::string fence = FenceFor(lines);
  Section section;
  section.entries = lines.size();
  section.render = [before = std::move(before), after = std::move(after), info = std::move(info),
                    fence, lines = std::move(lines)](size_t shown) {
    std::string out = before + fence + info + "\n";
    for (size_t i = 0; i < shown && i < lines.size(); ++i) out += lines[i] + "\n";
    if (shown < lines.size()) out += "… " + Plural(lines.size() - shown, "more line", "more lines") + "\n";
    return out + fence + "\n" + after;
  };
  return section;
}

// ---------------------------------------------------------------- plan parts

std::string ShortCommit(std::string_view commit) {
  return std::string(commit.substr(0, kShortCommitLength));
}

// "`feature/x` @ `abc1234`", or whichever of the two is known.
std::string RefAt(const std::string& ref, const std::string& commit) {
  if (ref.empty() && commit.empty()) return "_(unknown)_";
  if (commit.empty()) return InlineCode(ref);
  if (ref.empty()) return InlineCode(ShortCommit(commit));
  return InlineCode(ref) + " @ " + InlineCode(ShortCommit(commit));
}

std::string Heading(const PreviewInput& input) {
  std::string heading = "#### amlc plan for " + RefAt(input.head_ref, input.head_commit);
  if (!input.base_ref.empty() || !input.base_commit.empty()) {
    heading += " (into " + RefAt(input.base_ref, input.base_commit) + ")";
  }
  return heading + "\n";
}

std::string SummaryText(const PreviewInput& input) {
  if (input.plan == nullptr) {
    std::string counts = compiler::SummarizeCounts(input.errors, input.warnings);
    return "❌ The specs on head do not compile" + (counts.empty() ? "" : ": " + counts);
  }
  if (input.plan->empty()) return "No changes. The workspace matches head.";
  return compiler::planner::PlanSummary(*input.plan);
}

// A field value as its JSON text, shortened; "" means the field is new or gone.
std::string ValueText(const std::string& json_text, std::string_view when_empty) {
  if (json_text.empty()) return std::string(when_empty);
  return InlineCode(Shorten(OneLine(json_text), kMaxValueBytes));
}

std::string ChangeLine(const FieldChange& change) {
  return InlineCode(change.field) + ": " + ValueText(change.old_value, "_(none)_") + " → " +
         ValueText(change.new_value, "_(removed)_");
}

// "`+ deployment/blue`" and, for runs waiting on other runs, "(known after apply)".
std::string ActionLabel(const Action& action) {
  std::string label =
      InlineCode(std::string(compiler::planner::ActionSymbol(action.type)) + " " + action.resource_id);
  if (action.known_after_apply) label += " _(known after apply)_";
  return label;
}

// The list item of one action: its label, then why (reasons) and what
// (field changes), the tail folded when there is much of it.
std::string ActionItem(const Action& action) {
  std::vector<std::string> details;
  for (const std::string& reason : action.reasons) details.push_back(EscapeText(reason));
  for (const FieldChange& change : action.changes) details.push_back(ChangeLine(change));

  std::string item = "- " + ActionLabel(action) + "\n";
  size_t unfolded = details.size() <= kMaxUnfoldedDetailLines ? details.size() : kDetailLinesBeforeFold;
  for (size_t i = 0; i < unfolded; ++i) item += "  - " + details[i] + "\n";
  if (unfolded == details.size()) return item;

  size_t folded = details.size() - unfolded;
  bool only_changes = unfolded >= action.reasons.size();
  item += "  <details><summary>" +
          Plural(folded, only_changes ? "more change" : "more line",
                 only_changes ? "more changes" : "more lines") +
          "</summary>\n\n";
  for (size_t i = unfolded; i < details.size(); ++i) item += "  - " + details[i] + "\n";
  return item + "\n  </details>\n";
}

// "- `~ deployment/blue`: uses image/iris, which gets a new version first"
std::string ActionWithFirstReason(const Action& action) {
  std::string item = "- " + ActionLabel(action);
  if (!action.reasons.empty()) item += ": " + EscapeText(action.reasons.front());
  return item + "\n";
}

std::string DeferredItem(const Deferred& deferred) {
  return "- " + InlineCode(deferred.resource_id) + ": " + EscapeText(deferred.reason) + "\n";
}

// A model or image action that makes a new version. An update that lists field
// changes is not one: the planner updates metadata (tags alone) in place.
bool MakesNewVersion(const Action& action) {
  if (action.kind != "model" && action.kind != "image") return false;
  switch (action.type) {
    case ActionType::kCreate:
    case ActionType::kReplace: return true;
    case ActionType::kUpdate: return action.changes.empty();
    default: return false;
  }
}

bool RollsOut(const Action& action) {
  return (action.kind == "deployment" || action.kind == "endpoint") &&
         action.type != ActionType::kDelete && action.type != ActionType::kRun;
}

struct ActionGroup {
  ActionType type;
  const char* heading;
};

// The fixed order of the per-action sections: what appears, what changes, what goes, what runs.
constexpr ActionGroup kActionGroups[] = {
    {ActionType::kCreate, "Create"},   {ActionType::kUpdate, "Update in place"},
    {ActionType::kReplace, "Replace"}, {ActionType::kDelete, "Destroy"},
    {ActionType::kRun, "Runs to start"},
};

// A section of the actions that `pick` selects, each rendered by `item`; none when there are none.
void AddActionSection(const Plan& plan, std::string heading,
                      const std::function<bool(const Action&)>& pick,
                      const std::function<std::string(const Action&)>& item,
                      std::vector<Section>& sections) {
  std::vector<std::string> items;
  for (const Action& action : plan.actions) {
    if (pick(action)) items.push_back(item(action));
  }
  if (!items.empty()) sections.push_back(ListSection(std::move(heading), std::move(items)));
}

void AddDeferredSection(const std::vector<Deferred>& list, std::string heading,
                        std::vector<Section>& sections) {
  std::vector<std::string> items;
  for (const Deferred& deferred : list) items.push_back(DeferredItem(deferred));
  if (!items.empty()) sections.push_back(ListSection(std::move(heading), std::move(items)));
}

// PlanToText with each action's symbol moved to the start of its line (and
// "~" shown as "!"), as Atlantis does, so the forge's diff highlighting
// colours additions, removals and changes; the indentation moves behind it.
std::string PlanAsDiff(const Plan& plan) {
  std::string out;
  for (const std::string& line : SplitLines(compiler::planner::PlanToText(plan, false))) {
    std::string moved = line;
    for (const char* symbol : {"-/+", "+", "~", "-", ">"}) {
      std::string prefix = std::string("  ") + symbol + " ";
      if (line.rfind(prefix, 0) != 0) continue;
      std::string shown = std::string(symbol) == "~" ? "!" : symbol;
      moved = shown + " " + "  " + line.substr(prefix.size());
      break;
    }
    out += moved + "\n";
  }
  return out;
}

std::vector<Section> PlanSections(const PreviewInput& input) {
  const Plan& plan = *input.plan;
  std::vector<Section> sections;
  for (const ActionGroup& group : kActionGroups) {
    AddActionSection(
        plan, group.heading, [&](const Action& a) { return a.type == group.type; }, ActionItem,
        sections);
  }
  AddActionSection(plan, "Models and images that get new versions", MakesNewVersion,
                   ActionWithFirstReason, sections);
  AddActionSection(plan, "Deployments that roll out", RollsOut, ActionWithFirstReason, sections);
  AddDeferredSection(plan.held_back, "Held back", sections);
  AddDeferredSection(plan.deferred, "Not carried out here", sections);
  if (!input.diagnostics.empty()) {
    std::string title = input.warnings > 0
                            ? "⚠️ " + Plural(static_cast<size_t>(input.warnings), "warning", "warnings")
                            : "Diagnostics";
    sections.push_back(FencedSection("\n<details><summary>" + EscapeHtml(title) + "</summary>\n\n",
                                     input.diagnostics, "text", "\n</details>\n"));
  }
  if (!plan.empty()) {
    Section full = FencedSection("\n<details><summary>Full plan</summary>\n\n", PlanAsDiff(plan),
                                 "diff", "\n</details>\n");
    full.trim_first = true;
    sections.push_back(std::move(full));
  }
  return sections;
}

std::string Header(const PreviewInput& input) {
  std::string header = std::string(kPreviewMarker) + "\n" + Heading(input) + "\n**" +
                       EscapeText(SummaryText(input)) + "**\n";
  if (input.plan != nullptr && input.plan->up_to_date > 0) {
    header += "\n_" +
              Plural(static_cast<size_t>(input.plan->up_to_date), "resource", "resources") +
              " up to date._\n";
  }
  return header;
}

std::vector<Section> Sections(const PreviewInput& input) {
  if (input.plan != nullptr) return PlanSections(input);
  // A head that does not compile has no plan: its diagnostics are all there is to say.
  return {FencedSection("\n", input.diagnostics, "text", "")};
}

std::string TrimNote(const PreviewInput& input) {
  std::string head = input.head_commit.empty() ? input.head_ref : input.head_commit;
  std::string command = "amlc preview --repo " + input.repository + " --head " + head;
  return "\n_Trimmed to fit the forge's comment limit: run " + InlineCode(command) +
         " to see all of it._\n";
}

// ---------------------------------------------------------------- fitting

// Cuts the sections down to `budget` bytes: the full plan first, then the
// longest sections, each to as many entries as fit.
class SectionTrimmer {
 public:
  explicit SectionTrimmer(const std::vector<Section>& sections) : sections_(sections) {
    for (const Section& section : sections_) rendered_.push_back(section.render(section.entries));
  }

  void FitInto(size_t budget) {
    for (size_t i = 0; i < sections_.size() && Total(rendered_) > budget; ++i) {
      if (sections_[i].trim_first) ShrinkOrDrop(i, budget);
    }
    if (Total(rendered_) > budget) CapLongest(budget);
  }

  std::string Joined() const {
    std::string out;
    for (const std::string& part : rendered_) out += part;
    return out;
  }

 private:
  static size_t Total(const std::vector<std::string>& parts) {
    size_t total = 0;
    for (const std::string& part : parts) total += part.size();
    return total;
  }

  // The most entries of section `i` whose rendering fits in `room`, by
  // bisection (a section grows with its entries); nullopt when none fit.
  std::optional<size_t> MostEntriesWithin(size_t i, size_t room) const {
    std::optional<size_t> best;
    size_t low = 0, high = sections_[i].entries;
    while (low <= high) {
      size_t mid = low + (high - low) / 2;
      if (sections_[i].render(mid).size() <= room) {
        best = mid;
        low = mid + 1;
      } else if (mid == 0) {
        break;
      } else {
        high = mid - 1;
      }
    }
    return best;
  }

  // The full plan: as many lines as fit beside the sections, or none of it (a
  // fold showing no line of the plan would only take room).
  void ShrinkOrDrop(size_t i, size_t budget) {
    size_t others = Total(rendered_) - rendered_[i].size();
    size_t room = budget > others ? budget - others : 0;
    std::optional<size_t> fits = MostEntriesWithin(i, room);
    rendered_[i] = fits && *fits > 0 ? sections_[i].render(*fits) : "";
  }

  // The sections with every one longer than `cap` cut to as many entries as
  // fit in it (or to its heading and the count it leaves out).
  std::vector<std::string> Capped(const std::vector<std::string>& whole, size_t cap) const {
    std::vector<std::string> out = whole;
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i].size() <= cap) continue;
      std::optional<size_t> fits = MostEntriesWithin(i, cap);
      out[i] = sections_[i].render(fits ? *fits : 0);
    }
    return out;
  }

  // Cuts the longest sections down to one common length, the largest that
  // fits (found by bisection), so that the short lists stay whole and the
  // long ones share what room is left rather than one taking it all. When even
  // their headings do not fit, whole sections go, the longest first.
  void CapLongest(size_t budget) {
    const std::vector<std::string> whole = rendered_;
    size_t low = 0, high = 0;
    for (const std::string& part : whole) high = std::max(high, part.size());
    std::optional<size_t> best_cap;
    while (low <= high) {
      size_t mid = low + (high - low) / 2;
      if (Total(Capped(whole, mid)) <= budget) {
        best_cap = mid;
        low = mid + 1;
      } else if (mid == 0) {
        break;
      } else {
        high = mid - 1;
      }
    }
    rendered_ = Capped(whole, best_cap.value_or(0));
    while (Total(rendered_) > budget) {
      auto longest = std::max_element(rendered_.begin(), rendered_.end(),
                                      [](const std::string& a, const std::string& b) {
                                        return a.size() < b.size();
                                      });
      longest->clear();
    }
  }

  const std::vector<Section>& sections_;
  std::vector<std::string> rendered_;
};

std::string FitToLimit(const std::string& header, const std::vector<Section>& sections,
                       const std::string& note, size_t max_chars) {
  SectionTrimmer trimmer(sections);
  std::string full = header + trimmer.Joined();
  if (full.size() <= max_chars) return full;

  size_t fixed = header.size() + note.size();
  if (fixed <= max_chars) {
    trimmer.FitInto(max_chars - fixed);
    std::string fitted = header + trimmer.Joined() + note;
    if (fitted.size() <= max_chars) return fitted;
  }
  // A limit smaller than the heading and the note: cut the text itself.
  if (note.size() >= max_chars) return Utf8Prefix(note, max_chars);
  return Utf8Prefix(header, max_chars - note.size()) + note;
}

}  // namespace

std::string RenderPreviewMarkdown(const PreviewInput& input, size_t max_chars) {
  return FitToLimit(Header(input), Sections(input), TrimNote(input), max_chars);
}

nlohmann::json PreviewJson(const PreviewInput& input) {
  nlohmann::json json;
  json["repository"] = input.repository;
  json["pull_request"] = input.pull_request;
  json["head"] = {{"ref", input.head_ref}, {"commit", input.head_commit}};
  json["base"] = {{"ref", input.base_ref}, {"commit", input.base_commit}};
  json["compiles"] = input.plan != nullptr;
  json["summary"] = SummaryText(input);
  json["diagnostics"] = input.diagnostics;
  json["errors"] = input.errors;
  json["warnings"] = input.warnings;
  json["actions"] = nlohmann::json::array();
  json["new_versions"] = nlohmann::json::array();
  json["rollouts"] = nlohmann::json::array();
  json["held_back"] = nlohmann::json::array();
  json["deferred"] = nlohmann::json::array();
  json["counts"] = {{"add", 0}, {"change", 0}, {"destroy", 0}, {"run", 0}, {"up_to_date", 0}};
  if (input.plan == nullptr) return json;

  const Plan& plan = *input.plan;
  // PlanToJson is the one place that says what an action looks like as JSON.
  nlohmann::json plan_json = nlohmann::json::parse(compiler::planner::PlanToJson(plan));
  json["actions"] = plan_json["actions"];
  json["held_back"] = plan_json["held_back"];
  json["deferred"] = plan_json["deferred"];
  json["counts"] = plan_json["summary"];
  json["counts"]["up_to_date"] = plan.up_to_date;
  for (const Action& action : plan.actions) {
    if (MakesNewVersion(action)) json["new_versions"].push_back(action.resource_id);
    if (RollsOut(action)) json["rollouts"].push_back(action.resource_id);
  }
  return json;
}

}  // namespace amlc::reconciler
