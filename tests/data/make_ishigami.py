"""Write ishigami.xml: the Ishigami test function (Ishigami & Homma 1990) as a small SBML model.

Y = sin(x1) + a sin(x2)^2 + b x3^4 sin(x1), a = 7, b = 0.1, with x1, x2, x3 uniform on (-pi, pi): the
output is an assignment rule, constant in time. Analytic first-order Sobol indices (Saltelli et al.,
Global Sensitivity Analysis: The Primer, 2008, section 4.9): V = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2,
S1 = (1/2)(1 + b pi^4/5)^2 / V = 0.3139, S2 = (a^2/8) / V = 0.4424, S3 = 0.

    python tests/data/make_ishigami.py      # rewrites tests/data/ishigami.xml
"""

from pathlib import Path

import antimony

ANTIMONY = """
model ishigami
  x1 = 1.0; x2 = 1.0; x3 = 1.0   # the inputs; any real value (the test samples (-pi, pi))
  a = 7.0; b = 0.1
  Y := sin(x1) + a * sin(x2)^2 + b * x3^4 * sin(x1)
  t_ := time                     # a time-dependent rule so the model has a clock
end
"""


def main() -> Path:
    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(ANTIMONY) < 0:
        raise RuntimeError(antimony.getLastError())
    out = Path(__file__).with_name("ishigami.xml")
    out.write_text(antimony.getSBMLString("ishigami"), encoding="utf-8")
    return out


if __name__ == "__main__":
    print(main())
