// trace_step's capture (deepnet/trace.hpp): the network's caches and
// gradients at one step, under the course's names and in its shapes.
#include "train/trace_capture.hpp"

#include <string>

namespace deepnet {

const TracedArray* StepTrace::find(std::string_view name) const {
  for (const TracedArray& a : arrays)
    if (a.name == name) return &a;
  return nullptr;
}

namespace detail {

namespace {

std::string idx(int l) { return std::to_string(l); }

template <typename M>
void add(StepTrace& out, std::string name, std::string formula, int layer, const M& values) {
  TracedArray a;
  a.name = std::move(name);
  a.formula = std::move(formula);
  a.layer = layer;
  a.values = values.template cast<double>();
  out.arrays.push_back(std::move(a));
}

}  // namespace

template <typename T>
void capture_step(const Network<T>& net, const Matrix<T>& X, const Matrix<T>& Y, double cost, StepTrace& out) {
  const int L = net.layers();
  const Architecture& arch = net.architecture();
  out.float64 = sizeof(T) == 8;
  out.cost = cost;
  out.arrays.clear();
  add(out, "X", "A[0] = X: the step's examples as columns", 0, X);
  add(out, "Y", "the targets of the step's examples", 0, Y);
  for (int l = 1; l <= L; ++l) {
    add(out, "W" + idx(l), "W[" + idx(l) + "] before the update", l, net.W(l));
    add(out, "b" + idx(l), "b[" + idx(l) + "] before the update", l, net.b(l));
  }
  for (int l = 1; l <= L; ++l) {
    add(out, "Z" + idx(l), "Z[" + idx(l) + "] = W[" + idx(l) + "] A[" + idx(l - 1) + "] + b[" + idx(l) + "]", l, net.Z(l));
    add(out, "A" + idx(l),
        "A[" + idx(l) + "] = " + std::string(to_string(arch.activation(l))) + "(Z[" + idx(l) + "])", l, net.A(l));
  }
  {
    TracedArray c;
    c.name = "cost";
    c.formula = "J: the cost of the step's examples";
    c.values = Matrix<double>::Constant(1, 1, cost);
    c.scalar = true;
    out.arrays.push_back(std::move(c));
  }
  const Matrix<double> AL = net.A(L).template cast<double>();
  const Matrix<double> Yd = Y.template cast<double>();
  const std::string sL = idx(L);
  if (arch.output == Output::sigmoid) {
    const Matrix<double> dAL =
        (-(Yd.array() / AL.array() - (1.0 - Yd.array()) / (1.0 - AL.array()))).matrix();
    add(out, "dA" + sL, "dA[" + sL + "] = -(Y / A[" + sL + "] - (1 - Y) / (1 - A[" + sL + "]))", L, dAL);
  } else if (arch.output == Output::linear) {
    add(out, "dA" + sL, "dA[" + sL + "] = A[" + sL + "] - Y", L, (AL - Yd).eval());
  }
  for (int l = L; l >= 1; --l) {
    const std::string s = idx(l), p = idx(l - 1);
    if (l == L)
      add(out, "dZ" + s, "dZ[" + s + "] = A[" + s + "] - Y", l, net.dZ(l));
    else
      add(out, "dZ" + s,
          "dZ[" + s + "] = dA[" + s + "] * " + std::string(to_string(arch.activation(l))) + "'(Z[" + s + "])", l,
          net.dZ(l));
    add(out, "dW" + s,
        "dW[" + s + "] = (1/m) dZ[" + s + "] A[" + p + "]^T" + (net.l2() > 0 ? " + (lambda/m) W[" + s + "]" : ""), l,
        net.dW(l));
    add(out, "db" + s, "db[" + s + "] = (1/m) sum over the columns of dZ[" + s + "]", l, net.db(l));
    if (l > 1) {
      // dA[l-1] = W[l]^T dZ[l]: the backward pass turns it into dZ[l-1] in place, so it is formed here again.
      const Matrix<T> dA = net.W(l).transpose() * net.dZ(l);
      add(out, "dA" + p, "dA[" + p + "] = W[" + s + "]^T dZ[" + s + "]", l - 1, dA);
    }
  }
}

template <typename T>
void capture_update(const Network<T>& net, StepTrace& out) {
  for (int l = 1; l <= net.layers(); ++l) {
    add(out, "W" + idx(l) + "_next", "W[" + idx(l) + "] after the update", l, net.W(l));
    add(out, "b" + idx(l) + "_next", "b[" + idx(l) + "] after the update", l, net.b(l));
  }
}

template void capture_step<float>(const Network<float>&, const Matrix<float>&, const Matrix<float>&, double, StepTrace&);
template void capture_step<double>(const Network<double>&, const Matrix<double>&, const Matrix<double>&, double,
                                   StepTrace&);
template void capture_update<float>(const Network<float>&, StepTrace&);
template void capture_update<double>(const Network<double>&, StepTrace&);

}  // namespace detail

}  // namespace deepnet
