// Fuzzes the CSV reader (deepnet::parse_csv) and, for gzip input, io::gunzip
// as load_csv uses it. Each input is parsed with the default options; then the
// last byte picks other options (delimiter, spaces included, header,
// label/weight column, features only, dropping missing labels) and the rest is parsed again, so seeds stay plain CSV text.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "deepnet/data.hpp"
#include "deepnet/files.hpp"
#include "fuzz_common.hpp"

namespace {

// What every data set the reader returns must satisfy.
void check(const deepnet::Dataset& data, const deepnet::CsvOptions& options) {
  FUZZ_CHECK(data.X.rows() == static_cast<Eigen::Index>(data.feature_names.size()));
  FUZZ_CHECK(data.X.cols() >= 1);
  const auto m = static_cast<std::size_t>(data.X.cols());
  FUZZ_CHECK(data.targets.size() == (options.features_only ? 0 : m));
  FUZZ_CHECK(data.weights.empty() || data.weights.size() == m);
  for (double t : data.targets) {
    FUZZ_CHECK(std::isfinite(t));
    if (!data.class_names.empty()) FUZZ_CHECK(t >= 0 && t < static_cast<double>(data.class_names.size()));
  }
  for (Eigen::Index k = 0; k < data.X.size(); ++k) FUZZ_CHECK(std::isfinite(data.X.data()[k]));
  for (const std::string& note : data.notes) FUZZ_CHECK(note.find('\n') == std::string::npos);
}

void parse(std::string_view text, const deepnet::CsvOptions& options) {
  deepnet_fuzz::accepts([&] { check(deepnet::parse_csv(text, "fuzz.csv", options), options); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  // load_csv reads .csv.gz files through gunzip; a small limit keeps the fuzzer
  // inside its memory limit (the library's default is 16 GiB).
  if (deepnet::io::is_gzip(text) &&
      !deepnet_fuzz::accepts([&] { text = deepnet::io::gunzip(text, "fuzz.csv.gz", std::size_t(1) << 24); }))
    return 0;

  parse(text, {});
  if (text.empty()) return 0;

  const auto choice = static_cast<unsigned char>(text.back());
  text.pop_back();
  static const char* const columns[] = {"", "0", "1", "-1", "y", "label", "-3", "7"};
  static const char delimiters[] = {0, ',', ';', '\t'};
  static const deepnet::CsvHeader headers[] = {deepnet::CsvHeader::detect, deepnet::CsvHeader::present,
                                               deepnet::CsvHeader::absent, deepnet::CsvHeader::detect};
  deepnet::CsvOptions options;
  options.delimiter = delimiters[choice & 3];
  options.header = headers[(choice >> 2) & 3];
  options.features_only = (choice >> 4) & 1;
  options.label_column = columns[(choice >> 5) & 7];
  options.weight_column = columns[(choice * 7u >> 3) & 7];
  // The second detect slot: runs of spaces as the delimiter, rows with a missing label dropped.
  if (((choice >> 2) & 3) == 3) {
    options.delimiter = (choice & 1) ? ' ' : options.delimiter;
    options.drop_missing_labels = true;
  }
  parse(text, options);
  return 0;
}
