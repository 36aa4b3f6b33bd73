#include "infer/score_input.h"

#include "core/error.h"
#include "data/aligner.h"
#include "data/preprocess.h"

namespace tune {

namespace {

// The dataset_info.json entry LLaMA-Factory would need for a file of such objects (ranking on, so pairs are read).
DatasetSpec spec_for(const Json& object, const std::string& where) {
  DatasetSpec spec;
  spec.ranking = true;
  DatasetColumns& c = spec.columns;
  c.system = "system";
  c.chosen = "chosen";
  c.rejected = "rejected";
  if (object.contains("messages")) {
    spec.formatting = Formatting::ShareGpt;
    c.messages = "messages";
    spec.tags = {"role", "content", "user", "assistant", std::nullopt, std::nullopt, "system"};
  } else if (object.contains("conversations")) {
    spec.formatting = Formatting::ShareGpt;
    c.messages = "conversations";
  } else if (object.contains("instruction")) {
    c.prompt = "instruction";
    c.query = "input";
    c.response = "output";
    c.history = "history";
  } else if (object.contains("prompt")) {
    c.prompt = "prompt";
    c.response = "response";
    c.history = "history";
  } else {
    fail(where, ": no conversation to score; give \"messages\", \"conversations\", \"instruction\" (alpaca) or "
         "\"prompt\" (see `tune score --help`)");
  }
  return spec;
}

// For messages/conversations: the conversation without a leading system message must end with the answer (single)
// or with the user's message (pair), since the aligner would silently drop a trailing unanswered message.
void check_sharegpt_turns(const Json& object, const DatasetSpec& spec, bool pair, const std::string& where) {
  const Json& messages = object.at(*spec.columns.messages);
  TUNE_CHECK(messages.is_array(), where, ": \"", *spec.columns.messages, "\" must be a list of messages");
  size_t turns = messages.size();
  if (turns > 0 && messages[0].is_object()) {
    auto role = messages[0].find(spec.tags.role);
    if (role != messages[0].end() && *role == *spec.tags.system) --turns;
  }
  if (pair) {
    TUNE_CHECK(turns % 2 == 1, where, ": with chosen and rejected, \"", *spec.columns.messages,
               "\" must end with the user's message (", turns, " non-system messages given)");
  } else {
    TUNE_CHECK(turns % 2 == 0 && turns > 0, where, ": the last message of \"", *spec.columns.messages,
               "\" must be the assistant's answer to score (", turns,
               " non-system messages given); to score two answers give \"chosen\" and \"rejected\"");
  }
}

// sharegpt pairs may give chosen/rejected as plain strings: make them the assistant's message objects.
void answers_as_messages(Json& object, const ShareGptTags& tags) {
  for (const char* key : {"chosen", "rejected"}) {
    Json& answer = object[key];
    if (answer.is_string()) answer = Json{{tags.role, tags.assistant}, {tags.content, answer.get<std::string>()}};
  }
}

// "1 dropped because <reason>" -> "<reason>".
std::string drop_reason(const DropTally& drops) {
  const std::string summary = drops.summary();
  const std::string marker = " because ";
  const size_t at = summary.find(marker);
  return at == std::string::npos ? summary : summary.substr(at + marker.size());
}

}  // namespace

ScoreItem read_score_item(const Json& object, const InferenceModel& model, const ItemSource& source) {
  JsonRows rows;
  rows.files = {source.file};
  rows.rows.push_back({object, 0, source.line, source.element});
  const std::string where = rows.where(rows.rows[0]);
  TUNE_CHECK(object.is_object(), where, ": expected a JSON object, got ", object.type_name());
  TUNE_CHECK(model.chat_template, "scoring needs the chat template the reward model was trained with; set template: "
             "in the config (e.g. template: gemma)");
  const DatasetSpec spec = spec_for(object, where);
  const bool has_chosen = object.contains("chosen"), has_rejected = object.contains("rejected");
  TUNE_CHECK(has_chosen == has_rejected, where, ": a pair needs both \"chosen\" and \"rejected\"");
  const bool sharegpt = spec.formatting == Formatting::ShareGpt;
  // the aligner reads a pair only from answers of these types and otherwise scores the rest as one conversation
  for (const char* key : {"chosen", "rejected"}) {
    const auto answer = object.find(key);
    TUNE_CHECK(answer == object.end() || answer->is_string() || (sharegpt && answer->is_object()), where, ": \"", key,
               "\" must be a string", sharegpt ? " or a message object" : "", ", got ", answer->dump());
  }
  Json& row = rows.rows[0].value;
  if (sharegpt) {
    check_sharegpt_turns(object, spec, has_chosen, where);
    if (has_chosen) answers_as_messages(row, spec.tags);
  }
  for (const auto& item : row.items()) rows.keys.insert(item.key());

  DropTally drops;
  std::vector<AlignedExample> aligned = align_rows(spec, rows, drops);
  TUNE_CHECK(!aligned.empty(), where, ": cannot score this conversation: ", drop_reason(drops));
  AlignedExample& ex = aligned[0];
  TUNE_CHECK(!ex.responses.empty(), where, ": no answer to score; give the assistant's answer (\"output\", "
             "\"response\" or the last message) or \"chosen\" and \"rejected\"");
  const bool pair = ex.responses.size() >= 2;
  if (!pair) ex.responses.push_back(ex.responses[0]);  // preprocess_pairwise wants two answers; one is scored

  PreparedData data;
  preprocess_pairwise(aligned, *model.tokenizer, *model.chat_template, model.plan.cutoff_len, data, drops);
  TUNE_CHECK(!data.pairwise.empty(), where, ": cannot score this conversation: ", drop_reason(drops));
  const PairwiseExample& p = data.pairwise[0];
  auto with_prompt = [&](const TokenIds& answer) {
    TokenIds ids = p.prompt_ids;
    ids.insert(ids.end(), answer.begin(), answer.end());
    return ids;
  };
  ScoreItem item;
  item.pair = pair;
  item.sequences.push_back(with_prompt(p.chosen_ids));
  if (pair) item.sequences.push_back(with_prompt(p.rejected_ids));
  return item;
}

}  // namespace tune
