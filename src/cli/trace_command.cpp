// `deepnet trace`: train as `train` does up to one step, then show that step
// whole (deepnet/trace.hpp): a table on the terminal, the arrays as NPZ
// (--out), or a comparison with a learner's own arrays (--compare) that names
// the first quantity that differs and, where it can tell, the mistake.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "deepnet/array.hpp"
#include "deepnet/error.hpp"
#include "deepnet/trace.hpp"

namespace deepnet::cli {

namespace {

struct TraceSettings {
  long long iteration = 0;
  std::string compare;
  double rtol = -1, atol = -1;  // < 0: the default for the run's dtype
};

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string text = "(";
  for (std::size_t k = 0; k < shape.size(); ++k) text += (k ? ", " : "") + std::to_string(shape[k]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

std::vector<std::size_t> course_shape(const TracedArray& a) {
  if (a.scalar) return {};
  return {static_cast<std::size_t>(a.values.rows()), static_cast<std::size_t>(a.values.cols())};
}

std::string number(double v) {
  char text[40];
  std::snprintf(text, sizeof text, "%.6g", v);
  return text;
}

// The shape in the course's symbols: "(n[1], n[0])", "(n[2], m)", ...
std::string symbolic_shape(const TracedArray& a, int L) {
  const std::string& n = a.name;
  const std::string l = std::to_string(a.layer), p = std::to_string(a.layer - 1);
  if (a.scalar) return "a scalar";
  if (n == "X") return "(n[0], m)";
  if (n == "Y") return "(n[" + std::to_string(L) + "], m)";
  if (n[0] == 'W' || n.rfind("dW", 0) == 0) return "(n[" + l + "], n[" + p + "])";
  if (n[0] == 'b' || n.rfind("db", 0) == 0) return "(n[" + l + "], 1)";
  return "(n[" + l + "], m)";
}

// ------------------------------------------------------------------ the table

void print_table(const StepTrace& t, std::size_t examples) {
  std::printf("%-9s %-12s %-44s %13s %13s\n", "name", "shape", "first values (row by row)", "mean", "norm");
  (void)examples;
  for (const TracedArray& a : t.arrays) {
    const Matrix<double>& v = a.values;
    std::string first;
    const Eigen::Index count = std::min<Eigen::Index>(3, v.size());
    for (Eigen::Index k = 0; k < count; ++k)  // row-major, as numpy prints
      first += (k ? ", " : "") + number(v(k / v.cols(), k % v.cols()));
    if (v.size() > count) first += ", ...";
    std::printf("%-9s %-12s %-44s %13s %13s\n", a.name.c_str(), a.scalar ? "()" : shape_text(course_shape(a)).c_str(),
                first.c_str(), number(v.mean()).c_str(), number(v.norm()).c_str());
  }
}

// ------------------------------------------------------------------ NPZ

void write_npz(const std::string& path, const StepTrace& t) {
  std::vector<std::pair<std::string, NpzArray>> arrays;
  for (const TracedArray& a : t.arrays) {
    NumericArray n;
    n.dtype = t.float64 ? "<f8" : "<f4";
    n.shape = course_shape(a);
    const Matrix<double>& v = a.values;
    n.values.reserve(static_cast<std::size_t>(v.size()));
    for (Eigen::Index i = 0; i < v.rows(); ++i)
      for (Eigen::Index j = 0; j < v.cols(); ++j) n.values.push_back(v(i, j));
    arrays.emplace_back(a.name, std::move(n));
  }
  with_exit_code(exit_model, [&] { return save_npz(path, arrays), 0; });
}

// ------------------------------------------------------------------ compare

// A learner's array: shape as stored, values row-major.
struct Theirs {
  std::string key;
  NumericArray array;
};

// Row-major (r, c) values as a matrix.
Matrix<double> as_matrix(const NumericArray& a, Eigen::Index rows, Eigen::Index cols) {
  Matrix<double> m(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j) m(i, j) = a.values[static_cast<std::size_t>(i * cols + j)];
  return m;
}

struct Tolerance {
  double rtol, atol;
  // How close a guess (a transformed deepnet array) must come to count as what the learner computed.
  double guess;
};

bool close(const Matrix<double>& yours, const Matrix<double>& ours, const Tolerance& tol) {
  if (yours.rows() != ours.rows() || yours.cols() != ours.cols()) return false;
  for (Eigen::Index k = 0; k < yours.size(); ++k) {
    const double y = yours.data()[k], o = ours.data()[k];
    if (!(std::abs(y - o) <= tol.atol + tol.rtol * std::abs(o))) return false;
  }
  return true;
}

// Whether `yours` is `guess` within the guess tolerance (relative to the arrays' size).
bool matches_guess(const Matrix<double>& yours, const Matrix<double>& guess, const Tolerance& tol) {
  if (yours.rows() != guess.rows() || yours.cols() != guess.cols() || !guess.allFinite()) return false;
  const double scale = std::max(yours.norm(), guess.norm());
  if (scale == 0) return true;
  return (yours - guess).norm() <= tol.guess * scale;
}

// numpy's broadcasting of two 2-D shapes (false when they do not broadcast).
bool broadcast_shape(Eigen::Index r1, Eigen::Index c1, Eigen::Index r2, Eigen::Index c2, Eigen::Index& r, Eigen::Index& c) {
  if (r1 != r2 && r1 != 1 && r2 != 1) return false;
  if (c1 != c2 && c1 != 1 && c2 != 1) return false;
  r = std::max(r1, r2);
  c = std::max(c1, c2);
  return true;
}

// a * b with numpy's broadcasting (shapes assumed to broadcast).
Matrix<double> broadcast_product(const Matrix<double>& a, const Matrix<double>& b) {
  Eigen::Index r = 0, c = 0;
  broadcast_shape(a.rows(), a.cols(), b.rows(), b.cols(), r, c);
  Matrix<double> out(r, c);
  for (Eigen::Index i = 0; i < r; ++i)
    for (Eigen::Index j = 0; j < c; ++j)
      out(i, j) = a(a.rows() == 1 ? 0 : i, a.cols() == 1 ? 0 : j) * b(b.rows() == 1 ? 0 : i, b.cols() == 1 ? 0 : j);
  return out;
}

class Comparer {
 public:
  Comparer(const StepTrace& trace, const Tolerance& tol, long long m) : t_(trace), tol_(tol), m_(m) {
    for (const TracedArray& a : t_.arrays) L_ = std::max(L_, a.layer);
  }

  // "" when `yours` matches deepnet's array `a`; otherwise the report line.
  std::string check(const TracedArray& a, const NumericArray& yours) const {
    const std::vector<std::size_t> ours_shape = course_shape(a);
    if (a.scalar) {
      if (yours.size() != 1)
        return a.name + " differs: yours is " + shape_text(yours.shape) + ", deepnet's a single number (the cost J)";
      Matrix<double> y(1, 1);
      y(0, 0) = yours.values[0];
      return compare_values(a, y);
    }
    const auto rows = static_cast<Eigen::Index>(ours_shape[0]), cols = static_cast<Eigen::Index>(ours_shape[1]);
    if (yours.shape == ours_shape) return compare_values(a, as_matrix(yours, rows, cols));
    return shape_differs(a, yours, rows, cols);
  }

 private:
  const TracedArray* get(const std::string& name) const { return t_.find(name); }
  std::string layer_name(const char* prefix, int l) const { return prefix + std::to_string(l); }

  std::string head(const TracedArray& a, const std::string& yours_shape) const {
    return a.name + " differs: yours is " + yours_shape + ", deepnet's " + shape_text(course_shape(a)) + " = " +
           symbolic_shape(a, L_);
  }

  std::string shape_differs(const TracedArray& a, const NumericArray& yours, Eigen::Index rows, Eigen::Index cols) const {
    const std::string h = head(a, shape_text(yours.shape));
    const std::string& n = a.name;
    const bool bias = n[0] == 'b' || n.rfind("db", 0) == 0;
    // A rank-1 array, (n,) for (n, 1) or (1, n).
    if (yours.shape.size() == 1 && (static_cast<Eigen::Index>(yours.shape[0]) == rows * cols) && (rows == 1 || cols == 1))
      return h + " — a rank-1 array: keep it 2-D, e.g. np.zeros((" + std::to_string(rows) + ", " +
             std::to_string(cols) + ")) or np.sum(..., axis=1, keepdims=True)";
    if (yours.shape.size() != 2) return h + " — expected a 2-D array " + symbolic_shape(a, L_);
    const auto yr = static_cast<Eigen::Index>(yours.shape[0]), yc = static_cast<Eigen::Index>(yours.shape[1]);
    const Matrix<double> y = as_matrix(yours, yr, yc);
    if (bias && yr == 1 && yc == m_ && rows != 1) {
      std::string hint = " — ";
      if (n[0] == 'd') {
        const TracedArray* dZ = get(layer_name("dZ", a.layer));
        if (dZ && matches_guess(y, dZ->values.colwise().sum() / static_cast<double>(m_), tol_))
          hint += "summed over the wrong axis: np.sum(dZ" + std::to_string(a.layer) +
                  ", axis=0) adds up the units; db = (1/m) np.sum(dZ, axis=1, keepdims=True)";
        else
          hint += "summed over the wrong axis: db = (1/m) np.sum(dZ, axis=1, keepdims=True) is (n[l], 1)";
      } else {
        hint += "b broadcast over the wrong axis: b[l] is one number per unit, (n[l], 1), added to every column";
      }
      return h + hint;
    }
    if (bias && yr == rows && yc == m_) {
      if (n[0] == 'd')
        return h + " — dZ" + std::to_string(a.layer) +
               " not summed over the examples: db = (1/m) np.sum(dZ, axis=1, keepdims=True)";
      return h + " — b has a column per example: b[l] is (n[l], 1), one number per unit, broadcast over the m columns";
    }
    if (yr == cols && yc == rows) {
      if (matches_guess(y, a.values.transpose(), tol_))
        return h + " — the transpose: your values are deepnet's transposed (a missing or extra .T; examples are "
                   "columns, W[l] is (n[l], n[l-1]))";
      return h + " — the transpose of deepnet's shape (a missing or extra .T; examples are columns, W[l] is "
                 "(n[l], n[l-1]))";
    }
    // Elementwise * where a matrix product belongs: dW[l] = dZ[l] * A[l-1] (broadcast), Z[l] = W[l] * A[l-1].
    if (n.rfind("dW", 0) == 0) {
      const TracedArray* dZ = get(layer_name("dZ", a.layer));
      const TracedArray* A_prev = a.layer == 1 ? get("X") : get(layer_name("A", a.layer - 1));
      Eigen::Index br = 0, bc = 0;
      if (dZ && A_prev && broadcast_shape(dZ->values.rows(), dZ->values.cols(), A_prev->values.rows(), A_prev->values.cols(), br, bc) &&
          br == yr && bc == yc) {
        const Matrix<double> product = broadcast_product(dZ->values, A_prev->values);
        if (matches_guess(y, product / static_cast<double>(m_), tol_) || matches_guess(y, product, tol_))
          return h + " — np.dot vs *: an elementwise product where a matrix product belongs: dW" +
                 std::to_string(a.layer) + " = (1/m) np.dot(dZ" + std::to_string(a.layer) + ", " +
                 (a.layer == 1 ? std::string("X") : "A" + std::to_string(a.layer - 1)) + ".T)";
      }
    }
    if (n[0] == 'Z' || n.rfind("dA", 0) == 0) {
      const bool z = n[0] == 'Z';
      const TracedArray* left = z ? get(layer_name("W", a.layer)) : get(layer_name("W", a.layer + 1));
      const TracedArray* right = z ? (a.layer == 1 ? get("X") : get(layer_name("A", a.layer - 1)))
                                   : get(layer_name("dZ", a.layer + 1));
      if (left && right) {
        const Matrix<double> l = z ? left->values : Matrix<double>(left->values.transpose());
        Eigen::Index br = 0, bc = 0;
        if (broadcast_shape(l.rows(), l.cols(), right->values.rows(), right->values.cols(), br, bc) && br == yr && bc == yc)
          return h + " — np.dot vs *: an elementwise product where a matrix product belongs (" +
                 (z ? "Z = np.dot(W, A_prev) + b" : "dA_prev = np.dot(W.T, dZ)") + ")";
      }
    }
    return h + " — a wrong shape";
  }

  std::string compare_values(const TracedArray& a, const Matrix<double>& y) const {
    if (close(y, a.values, tol_)) return "";
    const Matrix<double>& o = a.values;
    // The largest difference (a NaN in yours counts as the largest).
    Eigen::Index at = 0;
    double largest = -1;
    for (Eigen::Index k = 0; k < y.size(); ++k) {
      const double d = std::isnan(y.data()[k]) ? std::numeric_limits<double>::infinity() : std::abs(y.data()[k] - o.data()[k]);
      if (d > largest) {
        largest = d;
        at = k;
      }
    }
    const Eigen::Index i = at % o.rows(), j = at / o.rows();  // column-major storage
    std::string line = a.name + " differs: " + (a.scalar ? std::string("the cost") : shape_text(course_shape(a))) +
                       (a.scalar ? "" : ", largest at [" + std::to_string(i) + ", " + std::to_string(j) + "]") +
                       ": yours " + number(y(i, j)) + ", deepnet " + number(o(i, j));
    const std::string hint = value_hint(a, y);
    return hint.empty() ? line : line + " — " + hint;
  }

  std::string value_hint(const TracedArray& a, const Matrix<double>& y) const {
    const std::string& n = a.name;
    const Matrix<double>& o = a.values;
    if (!y.allFinite())
      return "yours holds NaN or infinity (log(0), 0/0, or an overflowing exp?)";
    if (o.rows() == o.cols() && o.rows() > 1 && matches_guess(y, o.transpose(), tol_))
      return "your values are deepnet's transposed (a missing or extra .T)";
    // The activation derivative of a hidden layer: dZ[l] = dA[l] * g'(Z[l]).
    if (n.rfind("dZ", 0) == 0 && a.layer < L_) {
      const std::string hint = derivative_hint(a, y);
      if (!hint.empty()) return hint;
    }
    if (n[0] == 'Z') {
      const TracedArray* b = get(layer_name("b", a.layer));
      if (b && b->values.norm() > 0 && matches_guess(y, o - b->values.replicate(1, o.cols()), tol_))
        return "yours lacks + b" + std::to_string(a.layer) + ": Z = np.dot(W, A_prev) + b";
    }
    // A constant factor.
    const double oo = o.squaredNorm();
    if (oo > 0) {
      const double r = y.cwiseProduct(o).sum() / oo;
      if (matches_guess(y, r * o, tol_)) {
        const double m = static_cast<double>(m_);
        auto near = [&](double want) { return std::abs(r - want) <= 1e-3 * std::abs(want); };
        const std::string factor = "off by a factor of ";
        if (near(m)) return factor + std::to_string(m_) + " = m (yours = m x deepnet's): the 1/m is missing";
        if (near(1 / m)) return factor + "1/m = 1/" + std::to_string(m_) + " (yours = deepnet's / m): did you divide by m twice?";
        if (near(2)) return factor + "2 (yours = 2 x deepnet's): a stray 2, e.g. 2 * (A - Y) from differentiating a square, or a term added twice?";
        if (near(0.5)) return factor + "1/2 (yours = deepnet's / 2): a stray 1/2 or a second division?";
        if (near(-1)) return "the sign is flipped (yours = -deepnet's): dZ[L] = A[L] - Y, not Y - A[L]; the update is W - alpha dW";
        if (near(2 * m)) return factor + "2m (yours = 2m x deepnet's): the 1/m is missing and a stray 2";
        return factor + number(r) + " (yours = " + number(r) + " x deepnet's)";
      }
    }
    return "";
  }

  std::string derivative_hint(const TracedArray& a, const Matrix<double>& y) const {
    const TracedArray* dA = get(layer_name("dA", a.layer));
    const TracedArray* A = get(layer_name("A", a.layer));
    const TracedArray* Z = get(layer_name("Z", a.layer));
    if (!dA || !A || !Z) return "";
    const Activation g = t_.plan.architecture.activation(a.layer);
    const std::string l = std::to_string(a.layer);
    const std::string used = std::string(to_string(g));
    const std::string right = g == Activation::tanh      ? "1 - A" + l + "**2"
                              : g == Activation::sigmoid ? "A" + l + " * (1 - A" + l + ")"
                              : g == Activation::relu    ? "(Z" + l + " > 0)"
                              : g == Activation::leaky_relu ? "np.where(Z" + l + " > 0, 1, slope)"
                                                            : "1";
    const auto& Av = A->values.array();
    const auto& Zv = Z->values.array();
    const double slope = t_.plan.architecture.leaky_slope;
    struct Guess {
      Activation g;
      const char* text;
      Matrix<double> derivative;
    };
    const Guess guesses[] = {
        {Activation::sigmoid, "A * (1 - A), sigmoid's derivative", (Av * (1 - Av)).matrix()},
        {Activation::tanh, "1 - A**2, tanh's derivative", (1 - Av * Av).matrix()},
        {Activation::relu, "(Z > 0), relu's derivative", (Zv > 0).cast<double>().matrix()},
        {Activation::leaky_relu, "leaky relu's derivative", (Zv > 0).select(Matrix<double>::Ones(Zv.rows(), Zv.cols()).array(), slope).matrix()},
        {Activation::linear, "1 (no derivative at all)", Matrix<double>::Ones(Zv.rows(), Zv.cols())},
    };
    for (const Guess& guess : guesses) {
      if (guess.g == g) continue;
      if (matches_guess(y, dA->values.cwiseProduct(guess.derivative), tol_))
        return "dZ" + l + " = dA" + l + " * " + guess.text + ", but layer " + l + " is " + used + ": dZ" + l + " = dA" +
               l + " * " + right;
    }
    if (g == Activation::tanh && matches_guess(y, dA->values.cwiseProduct((1 - Zv * Zv).matrix()), tol_))
      return "dZ" + l + " = dA" + l + " * (1 - Z" + l + "**2) uses Z where A belongs: tanh'(Z) = 1 - A" + l + "**2";
    if (g == Activation::sigmoid && matches_guess(y, dA->values.cwiseProduct((Zv * (1 - Zv)).matrix()), tol_))
      return "dZ" + l + " = dA" + l + " * Z (1 - Z) uses Z where A belongs: sigmoid'(Z) = A" + l + " (1 - A" + l + ")";
    return "";
  }

  const StepTrace& t_;
  Tolerance tol_;
  long long m_;
  int L_ = 0;
};

// The learner's arrays by deepnet's names (aliases: AL, ZL, dAL, dZL for the
// last layer, A0 for X); errors name the file and the array.
std::vector<Theirs> read_theirs(const std::string& path, const StepTrace& t, int L) {
  std::vector<std::string> keys = with_exit_code(exit_data, [&] { return npz_keys(path); });
  std::vector<Theirs> theirs;
  std::vector<std::string> unknown;
  for (const std::string& key : keys) {
    std::string name = key;
    if (key == "AL" || key == "ZL" || key == "dAL" || key == "dZL") name = key.substr(0, key.size() - 1) + std::to_string(L);
    if (key == "A0") name = "X";
    if (!t.find(name)) {
      unknown.push_back(key);
      continue;
    }
    NumericArray a = with_exit_code(exit_data, [&] {
      try {
        return load_npz_array(path, key);
      } catch (const Error& e) {
        const std::string message = e.what();
        if (message.find("'" + key + "'") != std::string::npos || message.find("'" + key + ".npy'") != std::string::npos)
          throw;
        throw Error(path + ": array '" + key + "': " + message);
      }
    });
    if (a.values.size() != a.size())
      throw CliError(exit_data, path + ": array '" + key + "': expected numbers, got " + a.dtype);
    theirs.push_back({name, std::move(a)});
  }
  if (theirs.empty()) {
    std::string all;
    for (const std::string& k : keys) all += (all.empty() ? "" : ", ") + k;
    throw CliError(exit_data, path + ": none of its arrays (" + (all.empty() ? std::string("none") : all) +
                                  ") has a name deepnet traces: X, Y, W1, b1, Z1, A1, ..., cost, dZ1, dW1, db1, dA1, "
                                  "..., W1_next, b1_next, ... (see deepnet trace --help)");
  }
  if (!unknown.empty()) {
    std::string list;
    for (const std::string& k : unknown) list += (list.empty() ? "" : ", ") + k;
    std::fprintf(stderr, "deepnet: note: %s: not compared (deepnet traces no such name): %s\n", path.c_str(), list.c_str());
  }
  return theirs;
}

int compare(const std::string& path, const StepTrace& t, const Tolerance& tol) {
  int L = 0;
  for (const TracedArray& a : t.arrays) L = std::max(L, a.layer);
  const std::vector<Theirs> theirs = read_theirs(path, t, L);
  const TracedArray* X = t.find("X");
  const Comparer comparer(t, tol, X ? static_cast<long long>(X->values.cols()) : 1);
  int matched = 0;
  for (const TracedArray& a : t.arrays) {
    const auto it = std::find_if(theirs.begin(), theirs.end(), [&](const Theirs& th) { return th.key == a.name; });
    if (it == theirs.end()) continue;
    const std::string line = comparer.check(a, it->array);
    if (!line.empty()) {
      std::printf("%s\n", line.c_str());
      std::string rest;
      bool after = false;
      for (const TracedArray& b : t.arrays) {
        if (&b == &a) after = true;
        else if (after && std::any_of(theirs.begin(), theirs.end(), [&](const Theirs& th) { return th.key == b.name; }))
          rest += (rest.empty() ? "" : ", ") + b.name;
      }
      if (!rest.empty()) std::printf("not compared after it: %s\n", rest.c_str());
      return exit_other;
    }
    std::printf("%-9s %-12s matches\n", a.name.c_str(), a.scalar ? "()" : shape_text(course_shape(a)).c_str());
    ++matched;
  }
  std::printf("all %d arrays match (rtol %g, atol %g)\n", matched, tol.rtol, tol.atol);
  return exit_ok;
}

std::string describe_step(const StepTrace& t) {
  const TracedArray* X = t.find("X");
  const long long m = X ? static_cast<long long>(X->values.cols()) : 0;
  if (t.steps_per_epoch == 0)
    return "iteration " + std::to_string(t.step) + " of the course's loop (full batch, m = " + std::to_string(m) + ")";
  return "step " + std::to_string(t.step) + " = epoch " + std::to_string(t.epoch) + ", batch " + std::to_string(t.batch) +
         " of " + std::to_string(t.steps_per_epoch) + " (m = " + std::to_string(m) + " examples in the batch)";
}

}  // namespace

Runner add_trace_command(CLI::App& app) {
  auto s = std::make_shared<TraceSettings>();
  CLI::App* cmd = app.add_subcommand(
      "trace",
      "Train as 'train' does up to iteration (or mini-batch step) K, then show that step whole in the course's names "
      "and shapes: X, Y, W1, b1, ... (before the update), Z1, A1, ..., ZL, AL, cost, dAL (sigmoid and linear outputs), "
      "dZL, dWL, dbL, dA(L-1), dZ(L-1), ..., dA1, dZ1, dW1, db1, and W1_next, b1_next, ... (after the update). Prints "
      "a table (name, shape, first values, mean, norm), writes the arrays (--out FILE.npz), or compares your own "
      "(--compare)");
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"--history", "trace looks at one step; train writes the history"},
      {"--checkpoint", "trace looks at one step and writes no checkpoint (it resumes from one: --resume)"},
      {"--test", "trace looks at one training step; train scores test data"},
      {"--train-score", "trace looks at one training step; train scores the training data"},
      {"--json", "trace prints a table or a comparison; --out writes the arrays"},
      {"--diagnose", "trace shows one step whole; train --diagnose records every epoch's health"},
      {"--plot", "trace draws no pictures; train --plot does"}};
  auto prepare = add_train_flags(
      *cmd,
      "Write the step's arrays to this NPZ file (atomically): the names above, the course's shapes, float64 (<f8) for "
      "--dtype float64 runs and float32 (<f4) otherwise; cost is a 0-d array",
      refused);
  cmd->add_option("--iteration", s->iteration,
                  "The step to show, counted from 0: the iteration of --iterations (full-batch gradient descent), or "
                  "the mini-batch step over the whole run (epoch e, batch b: (e - 1) x steps per epoch + b - 1)")
      ->capture_default_str();
  cmd->add_option("--compare", s->compare,
                  "Compare your own arrays (an NPZ, e.g. np.savez('mine.npz', W1=W1, dZ1=dZ1, ...): any of the names "
                  "above; AL, ZL, dAL, dZL for the last layer and A0 for X are understood) with deepnet's; prints the "
                  "first that differs, in forward-then-backward order, with its shape, the place of the largest "
                  "difference and what the mistake looks like; exit 1 when one differs, 0 when all match");
  cmd->add_option("--rtol", s->rtol,
                  "--compare: relative tolerance, |yours - deepnet| <= atol + rtol |deepnet| (default 1e-6 for float64 "
                  "runs, 1e-3 for float32)");
  cmd->add_option("--atol", s->atol, "--compare: absolute tolerance (default 1e-10 for float64 runs, 1e-6 for float32)");
  return [s, prepare] {
    const TrainingInputs in = prepare();
    // A --compare file that cannot be read is refused before training.
    if (!s->compare.empty()) with_exit_code(exit_data, [&] { return npz_keys(s->compare).size(); });
    if (s->iteration < 0) throw CliError(exit_usage, "--iteration: expected a step >= 0, got " + std::to_string(s->iteration));
    if ((s->rtol < 0 && s->rtol != -1) || (s->atol < 0 && s->atol != -1) || !std::isfinite(s->rtol) || !std::isfinite(s->atol))
      throw CliError(exit_usage, "--rtol and --atol: expected finite values >= 0");
    FitCallbacks callbacks;
    callbacks.on_plan = [&](const FitPlan& plan, const Dataset& train, const Dataset*) {
      for (const std::string& w : plan.task.warnings) std::fprintf(stderr, "deepnet: warning: %s\n", w.c_str());
      if (in.quiet) return;
      std::printf("network: %s, %lld examples, %s, init %s, rng %s seed %llu\n", plan.architecture.describe().c_str(),
                  static_cast<long long>(train.examples()), in.settings.float64 ? "float64" : "float32",
                  std::string(to_string(plan.init)).c_str(), std::string(to_string(in.settings.rng)).c_str(),
                  static_cast<unsigned long long>(in.settings.seed));
      std::string normalization(to_string(plan.normalization));
      if (!plan.normalization_reason.empty()) normalization += " (auto: " + plan.normalization_reason + ")";
      std::printf("normalize: %s\n", normalization.c_str());
      std::fflush(stdout);
    };
    const StepTrace trace = with_fit_errors(exit_data, [&] {
      return trace_step(in.train, in.has_validation ? &in.validation : nullptr, in.settings, s->iteration, callbacks,
                        in.resume ? &*in.resume : nullptr);
    });
    if (!in.quiet) std::printf("%s, cost %.6f\n", describe_step(trace).c_str(), trace.cost);
    if (!in.out.empty()) write_npz(in.out, trace);
    int code = exit_ok;
    if (!s->compare.empty()) {
      Tolerance tol{s->rtol, s->atol, trace.float64 ? 1e-6 : 1e-3};
      if (tol.rtol < 0) tol.rtol = trace.float64 ? 1e-6 : 1e-3;
      if (tol.atol < 0) tol.atol = trace.float64 ? 1e-10 : 1e-6;
      code = compare(s->compare, trace, tol);
    } else {
      print_table(trace, 0);
    }
    if (!in.out.empty() && !in.quiet) std::printf("arrays written to %s\n", in.out.c_str());
    return code;
  };
}

}  // namespace deepnet::cli
