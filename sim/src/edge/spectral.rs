//! Edge vibration features of one accelerometer axis over one acquisition window.
//!
//! Mirrors what STMicroelectronics' condition-monitoring firmware (X-CUBE-PREDMNT,
//! MotionSP library) computes on the sensor node: time-domain RMS / peak / crest /
//! kurtosis, ISO 10816 velocity RMS, sub-range spectral energies, and an envelope
//! spectrum for bearing diagnostics.
//!
//! Determinism: FFTs are planned with [`FftPlannerScalar`] (no runtime SIMD
//! detection), every sum runs in a fixed order in f64, and nothing iterates a hash
//! map, so the same input gives bit-identical output on every x86_64 machine.

use std::f64::consts::PI;
use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlannerScalar};

/// Number of equal sub-ranges the spectrum 0..odr/2 is split into (ST MotionSP default SUBRANGE_DEFAULT = 8).
pub const BANDS: usize = 8;

/// Standard gravity in mm/s² per g (9.80665 m/s², CGPM 1901).
const G_MM_S2: f64 = 9_806.65;
/// ISO 10816 measures vibration velocity over 10–1000 Hz.
const ISO_BAND_HZ: (f64, f64) = (10.0, 1_000.0);
/// Lanes for the moment sums: sample i feeds lane i mod LANES. Independent add chains
/// run ~3× faster than one, and the order is still fixed, so results stay bit-identical.
const LANES: usize = 8;
const ZERO: Complex<f64> = Complex::new(0.0, 0.0);
/// A planned FFT.
type Plan = Arc<dyn Fft<f64>>;

/// Edge features of one axis over one acquisition window.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AxisFeatures {
    /// AC RMS acceleration (mean removed), g.
    pub rms_g: f64,
    /// Largest |x - mean| in the window, g.
    pub peak_g: f64,
    /// peak / rms (0 when rms is 0).
    pub crest: f64,
    /// Normalised fourth central moment m4/m2² (3 for Gaussian noise; 1.5 for a sinusoid); 0 when variance is 0.
    pub kurtosis: f64,
    /// RMS vibration velocity over 10–1000 Hz (ISO 10816 band), mm/s, by integrating the spectrum: v(f) = a(f)·9.80665e3/(2πf).
    pub vel_rms_mm_s: f64,
    /// Mean-square acceleration in each of BANDS equal sub-ranges of 0..odr/2, g²; their sum ≈ rms_g² (Parseval).
    pub bands_g2: [f64; BANDS],
}

/// Maps non-finite values (overflow, NaN) to 0 so callers never see NaN or ∞.
fn finite(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

/// Deviation of `x` from `mean`; non-finite samples are treated as equal to the mean.
fn centred(x: f64, mean: f64) -> f64 {
    if x.is_finite() { x - mean } else { 0.0 }
}

/// Calls `f(i mod LANES, x_i)` for every sample, in order.
fn for_lanes(samples: &[f64], mut f: impl FnMut(usize, f64)) {
    let mut it = samples.chunks_exact(LANES);
    it.by_ref()
        .for_each(|c| (0..LANES).for_each(|l| f(l, c[l])));
    it.remainder()
        .iter()
        .enumerate()
        .for_each(|(l, &x)| f(l, x));
}

/// Sum of the lanes in a fixed pairwise order.
fn lane_sum(a: [f64; LANES]) -> f64 {
    ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
}

/// Mean, second and fourth central moments and peak |deviation| of one window, in two
/// passes. The mean is taken relative to the first finite sample, so a constant
/// window gives exactly zero deviations; non-finite samples count as the mean.
fn moments(samples: &[f64]) -> [f64; 4] {
    let shift = *samples.iter().find(|x| x.is_finite()).unwrap_or(&0.0);
    let (mut s, mut count) = ([0.0; LANES], 0usize);
    for_lanes(samples, |l, x| {
        s[l] += centred(x, shift);
        count += usize::from(x.is_finite());
    });
    let mean = finite(shift + lane_sum(s) / count.max(1) as f64);
    let (mut m2, mut m4, mut peak) = ([0.0; LANES], [0.0; LANES], [0.0f64; LANES]);
    for_lanes(samples, |l, x| {
        let d = centred(x, mean);
        m2[l] += d * d;
        m4[l] += d * d * (d * d);
        peak[l] = peak[l].max(d.abs());
    });
    let n = samples.len().max(1) as f64;
    let peak = peak.iter().fold(0.0, |a: f64, &b| a.max(b));
    [mean, lane_sum(m2) / n, lane_sum(m4) / n, peak].map(finite)
}

/// Bin width in Hz, or 0 when the rate or length is unusable.
fn bin_width(odr_hz: f64, n: usize) -> f64 {
    let ok = n > 0 && odr_hz.is_finite() && odr_hz > 0.0;
    if ok { odr_hz / n as f64 } else { 0.0 }
}

/// Number of one-sided bins (0..=N/2) of an N-point window; none for an empty one.
fn one_sided_len(n: usize) -> usize {
    if n == 0 { 0 } else { n / 2 + 1 }
}

/// One-sided scaling: every bin except DC and (for even N) Nyquist appears twice in the two-sided spectrum.
fn one_sided_factor(k: usize, n: usize) -> f64 {
    if k == 0 || 2 * k == n { 1.0 } else { 2.0 }
}

/// Reusable analyzer (holds FFT plan, window and scratch buffers so repeated windows do not allocate).
#[derive(Default)]
pub struct SpectralAnalyzer {
    /// Window length everything below is prepared for (0 = none yet).
    n: usize,
    /// Power-spectrum plan: N/2 points for even N (real-input packing), N points for odd N.
    forward: Option<Plan>,
    /// Full N-point forward and inverse plans, planned lazily by the envelope spectrum.
    full: Option<(Plan, Plan)>,
    /// exp(-2πik/N) for k < N/2, to split the packed real-input FFT (even N only).
    twiddles: Vec<Complex<f64>>,
    /// Periodic Hann window of length N, with its sum and sum of squares.
    window: Vec<f64>,
    window_sum: f64,
    window_sum_sq: f64,
    /// FFT work buffers; `env` holds the N-point envelope transforms.
    buf: Vec<Complex<f64>>,
    env: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
    /// One-sided power spectrum of the last window, g² per bin.
    power: Vec<f64>,
}

impl SpectralAnalyzer {
    /// Creates an analyzer with nothing planned; the first window plans its size.
    pub fn new() -> Self {
        Self::default()
    }

    /// Computes all features of `samples` (g) at `odr_hz`.
    ///
    /// Non-finite samples are treated as equal to the window mean. A window with
    /// zero variance (empty, one sample, constant) yields all-zero features, kurtosis
    /// included. The velocity needs a finite positive `odr_hz`, else it is 0.
    pub fn axis_features(&mut self, samples: &[f64], odr_hz: f64) -> AxisFeatures {
        let [mean, m2, m4, peak] = moments(samples);
        if m2 <= 0.0 {
            return AxisFeatures::default();
        }
        let rms = m2.sqrt();
        let mut out = AxisFeatures {
            rms_g: rms,
            peak_g: peak,
            crest: finite(peak / rms),
            kurtosis: finite(m4 / (m2 * m2)),
            ..AxisFeatures::default()
        };
        let n = samples.len();
        self.fill_power(samples, mean);

        // ST MotionSP splits the spectrum into 8 sub-ranges (SUBRANGE_DEFAULT). Bin k
        // goes to floor(k·df / (odr/2) · BANDS) = floor(2k·BANDS / N), so band b starts
        // at bin ceil(b·N / (2·BANDS)); DC is skipped, Nyquist falls in the last band.
        let mut edges: [usize; BANDS + 1] = std::array::from_fn(|b| (b * n).div_ceil(2 * BANDS));
        (edges[0], edges[BANDS]) = (1, n / 2 + 1);
        for (b, e) in out.bands_g2.iter_mut().enumerate() {
            let bins = self.power.get(edges[b]..edges[b + 1]).unwrap_or_default();
            *e = finite(bins.iter().sum());
        }

        // ISO 10816 measures velocity over 10–1000 Hz; a(f) in g → v(f) = a·g/(2πf),
        // so v² sums p_k · (g/(2π·df))² / k² over bins k·df in [10, min(1000, odr/2)].
        let df = bin_width(odr_hz, n);
        if df > 0.0 {
            let k0 = ((ISO_BAND_HZ.0 / df).ceil() as usize).max(1);
            let k1 = ((ISO_BAND_HZ.1.min(odr_hz / 2.0) / df).floor() as usize).min(n / 2);
            let v2: f64 = (k0..=k1).map(|k| self.power[k] / (k * k) as f64).sum();
            out.vel_rms_mm_s = finite((v2 * (G_MM_S2 / (2.0 * PI * df)).powi(2)).sqrt());
        }
        out
    }

    /// One-sided power spectrum (mean-square per bin, g², window-corrected so that sum over bins ≈ variance), and bin width in Hz. For tests and diagnostics (e.g. find the peak bin at a bearing defect frequency).
    ///
    /// Returns N/2 + 1 bins (bin k at k·df); an empty window gives no bins, and an
    /// unusable `odr_hz` gives a bin width of 0.
    pub fn power_spectrum(&mut self, samples: &[f64], odr_hz: f64) -> (Vec<f64>, f64) {
        self.fill_power(samples, moments(samples)[0]);
        let p = self.power.iter().map(|&p| finite(p)).collect();
        (p, bin_width(odr_hz, samples.len()))
    }

    /// Envelope spectrum (for bearing diagnostics): band-pass the signal with an FFT mask over [lo_hz, hi_hz], take the analytic signal (Hilbert via FFT) magnitude, remove its mean, and return the one-sided amplitude spectrum of the envelope (g) and bin width. Used to find BPFO/BPFI lines.
    ///
    /// The envelope is Hann-windowed and amplitude-corrected (divided by the window's
    /// coherent gain), so an envelope tone of amplitude A centred on a bin reads A.
    /// An empty or inverted band, or an unusable `odr_hz`, gives an all-zero spectrum.
    pub fn envelope_spectrum(
        &mut self,
        samples: &[f64],
        odr_hz: f64,
        lo_hz: f64,
        hi_hz: f64,
    ) -> (Vec<f64>, f64) {
        let n = samples.len();
        let df = bin_width(odr_hz, n);
        if n < 2 || df <= 0.0 {
            return (vec![0.0; one_sided_len(n)], df);
        }
        self.prepare(n);
        let (fwd, inv) = self.full.get_or_insert_with(|| {
            let mut planner = FftPlannerScalar::new();
            (planner.plan_fft_forward(n), planner.plan_fft_inverse(n))
        });
        let (fwd, inv) = (Arc::clone(fwd), Arc::clone(inv));
        let need = [&fwd, &inv].map(|p| p.get_inplace_scratch_len());
        self.scratch
            .resize(need[0].max(need[1]).max(self.scratch.len()), ZERO);
        let mean = moments(samples)[0];
        let mut z = std::mem::take(&mut self.env);
        z.clear();
        z.extend(samples.iter().map(|&x| Complex::new(centred(x, mean), 0.0)));
        fwd.process_with_scratch(&mut z, &mut self.scratch);

        // Analytic signal of the band-passed signal: keep positive frequencies inside
        // [lo, hi] doubled (Nyquist kept once), zero DC and negative frequencies.
        for (k, b) in z.iter_mut().enumerate() {
            let f = k as f64 * df;
            let keep = k > 0 && 2 * k <= n && f >= lo_hz && f <= hi_hz;
            *b *= if keep { one_sided_factor(k, n) } else { 0.0 };
        }
        inv.process_with_scratch(&mut z, &mut self.scratch);

        // Envelope = |analytic| (rustfft's inverse is unnormalised: divide by N).
        let env_mean = z.iter().map(|b| b.norm()).sum::<f64>() / n as f64;
        for (b, &w) in z.iter_mut().zip(&self.window) {
            *b = Complex::new(finite((b.norm() / n as f64 - env_mean) * w), 0.0);
        }
        fwd.process_with_scratch(&mut z, &mut self.scratch);
        let gain = self.window_sum;
        let amp = z[..one_sided_len(n)].iter().enumerate();
        let amp = amp.map(|(k, b)| finite(b.norm() / gain * one_sided_factor(k, n)));
        let amp = amp.collect();
        self.env = z;
        (amp, df)
    }

    /// Plans the FFT, builds the Hann window and twiddles and sizes the buffers for
    /// length `n`, only when `n` differs from the last size used.
    fn prepare(&mut self, n: usize) {
        if n == self.n {
            return;
        }
        let even = n.is_multiple_of(2);
        let len = if even { n / 2 } else { n };
        let fwd = FftPlannerScalar::new().plan_fft_forward(len);
        // Periodic (DFT-even) Hann window, the usual choice for spectral estimation.
        let angle = |i: usize| 2.0 * PI * i as f64 / n as f64;
        self.window = (0..n).map(|i| 0.5 - 0.5 * angle(i).cos()).collect();
        self.window_sum = self.window.iter().sum();
        self.window_sum_sq = self.window.iter().map(|w| w * w).sum();
        let tw = if even { n / 2 } else { 0 };
        let twiddle = |k| Complex::from_polar(1.0, -angle(k));
        self.twiddles = (0..tw).map(twiddle).collect();
        self.buf = vec![ZERO; len];
        self.scratch = vec![ZERO; fwd.get_inplace_scratch_len()];
        self.power = vec![0.0; one_sided_len(n)];
        self.forward = Some(fwd);
        self.full = None;
        self.n = n;
    }

    /// Fills `self.power` (N/2 + 1 bins) with the one-sided, Hann-windowed power spectrum
    /// of `samples - mean`, scaled by 1/(N·Σw²) so the bins sum to the windowed variance.
    /// Windows of fewer than 2 samples give all zeros.
    fn fill_power(&mut self, samples: &[f64], mean: f64) {
        let n = samples.len();
        self.prepare(n);
        self.power.fill(0.0);
        let Some(fft) = self.forward.clone().filter(|_| n >= 2) else {
            return;
        };
        let (buf, h, norm) = (&mut self.buf, n / 2, 1.0 / (n as f64 * self.window_sum_sq));
        if !n.is_multiple_of(2) {
            for ((b, &x), &w) in buf.iter_mut().zip(samples).zip(&self.window) {
                *b = Complex::new(centred(x, mean) * w, 0.0);
            }
            fft.process_with_scratch(buf, &mut self.scratch);
            for (k, p) in self.power.iter_mut().enumerate() {
                *p = buf[k].norm_sqr() * norm * one_sided_factor(k, n);
            }
            return;
        }
        // Real-input FFT by packing x[2m] + i·x[2m+1] into an N/2-point complex FFT Z,
        // then X_k = E_k + e^(-2πik/N)·O_k with E_k = (Z_k + Z*_(N/2-k))/2 and
        // O_k = (Z_k - Z*_(N/2-k))/(2i) (Numerical Recipes §12.3): half the FFT work.
        let pairs = samples.chunks_exact(2).zip(self.window.chunks_exact(2));
        for (b, (x, w)) in buf.iter_mut().zip(pairs) {
            *b = Complex::new(centred(x[0], mean) * w[0], centred(x[1], mean) * w[1]);
        }
        fft.process_with_scratch(buf, &mut self.scratch);
        self.power[0] = (buf[0].re + buf[0].im).powi(2) * norm;
        self.power[h] = (buf[0].re - buf[0].im).powi(2) * norm;
        // With Z_k = a + ib and Z_(N/2-k) = c + id: 2·E_k = (a + c, b − d) and
        // 2·O_k = (b + d, c − a); the ½ is folded into the scale (¼ × one-sided 2).
        let mirror = buf[1..h].iter().zip(buf[1..h].iter().rev());
        let out = self.power[1..h].iter_mut().zip(&self.twiddles[1..]);
        for ((p, w), (z, r)) in out.zip(mirror) {
            let e = Complex::new(z.re + r.re, z.im - r.im);
            let o = Complex::new(z.im + r.im, r.re - z.re);
            *p = (e + w * o).norm_sqr() * norm * 0.5;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// splitmix64 (Steele et al. 2014) + Box-Muller: tiny deterministic N(0, 1) source.
    struct Gauss(u64);
    impl Gauss {
        fn uniform(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }
        fn next(&mut self) -> f64 {
            let u1 = 1.0 - self.uniform(); // (0, 1], so ln is finite
            (-2.0 * u1.ln()).sqrt() * (2.0 * PI * self.uniform()).cos()
        }
    }

    fn sine(amp: f64, f: f64, odr: f64, n: usize) -> Vec<f64> {
        let w = 2.0 * PI * f / odr;
        (0..n).map(|i| amp * (w * i as f64).sin()).collect()
    }

    /// Index of the largest value at or after `from`.
    fn argmax(v: &[f64], from: usize) -> usize {
        let cmp = |&i: &usize, &j: &usize| v[i].total_cmp(&v[j]);
        (from..v.len()).max_by(cmp).unwrap_or(0)
    }

    fn all_finite(v: &[f64]) -> bool {
        v.iter().all(|v| v.is_finite())
    }

    /// Bit patterns of every feature, for exact comparisons.
    fn bits(f: AxisFeatures) -> Vec<u64> {
        let v = [f.rms_g, f.peak_g, f.crest, f.kurtosis, f.vel_rms_mm_s];
        v.into_iter().chain(f.bands_g2).map(f64::to_bits).collect()
    }

    #[test]
    fn sinusoid_features() {
        let (odr, n) = (26_667.0, 32_768);
        let x = sine(1.0, 100.0, odr, n);
        let mut a = SpectralAnalyzer::new();
        let f = a.axis_features(&x, odr);
        assert!((f.rms_g - 0.5f64.sqrt()).abs() < 1e-3, "{f:?}");
        assert!((f.kurtosis - 1.5).abs() < 0.01, "{f:?}");
        assert!((f.crest - 2f64.sqrt()).abs() < 0.01, "{f:?}");
        let (p, df) = a.power_spectrum(&x, odr);
        assert_eq!(p.len(), n / 2 + 1);
        assert!((argmax(&p, 0) as f64 * df - 100.0).abs() <= df);
        let total: f64 = p.iter().sum();
        assert!((total - 0.5).abs() < 0.005, "total {total}");
        let v = G_MM_S2 / (2.0 * PI * 100.0) / 2f64.sqrt();
        assert!((f.vel_rms_mm_s / v - 1.0).abs() < 0.02, "{f:?} vs {v}");
        // Parseval: the sub-range energies add up to the spectrum, all in band 0.
        let bands: f64 = f.bands_g2.iter().sum();
        assert!((bands / total - 1.0).abs() < 1e-6 && f.bands_g2[0] / bands > 0.999);
        // A tone at Nyquist (+1, -1, ...) lands in the last band, with all the variance.
        let nyquist: Vec<f64> = (0..64)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        assert!((a.axis_features(&nyquist, odr).bands_g2[BANDS - 1] - 1.0).abs() < 1e-9);
    }

    #[test]
    fn white_noise_features() {
        let (odr, n, sigma) = (26_667.0, 32_768, 0.01);
        let mut rng = Gauss(0);
        let x: Vec<f64> = (0..n).map(|_| 0.2 + sigma * rng.next()).collect();
        let f = SpectralAnalyzer::new().axis_features(&x, odr);
        assert!((f.rms_g / sigma - 1.0).abs() < 0.02, "{f:?}");
        assert!((f.kurtosis - 3.0).abs() < 0.15, "{f:?}");
        // Each band sums 2048 Hann-correlated bins: ~3 % relative spread, so 10 % ≈ 3σ.
        let target = sigma * sigma / BANDS as f64;
        let off = f.bands_g2.map(|b| (b / target - 1.0).abs());
        assert!(off.iter().all(|&o| o < 0.10), "{off:?}");
        let sum: f64 = f.bands_g2.iter().sum();
        assert!((sum / (f.rms_g * f.rms_g) - 1.0).abs() < 0.02, "{f:?}");
    }

    #[test]
    fn power_spectrum_matches_direct_dft() {
        // Checks the real-input packing (even N) and the plain path (odd N) against
        // a textbook DFT of the mean-removed, Hann-windowed signal.
        let mut rng = Gauss(3);
        for n in [2, 3, 64, 63] {
            let x: Vec<f64> = (0..n).map(|_| 1.0 + rng.next()).collect();
            let mean = x.iter().sum::<f64>() / n as f64;
            let mut a = SpectralAnalyzer::new();
            let (p, df) = a.power_spectrum(&x, 100.0);
            let (w, norm) = (&a.window, n as f64 * a.window_sum_sq);
            let top = n % 2 == 1 || (w[n / 2] - 1.0).abs() < 1e-15;
            assert!(w[0] == 0.0 && top, "periodic Hann: w[0] = 0, w[N/2] = 1");
            assert_eq!((p.len(), df), (n / 2 + 1, 100.0 / n as f64));
            for (k, &pk) in p.iter().enumerate() {
                let mut xk = ZERO;
                for (i, (&xi, &wi)) in x.iter().zip(w).enumerate() {
                    let phase = -2.0 * PI * (i * k) as f64 / n as f64;
                    xk += Complex::from_polar((xi - mean) * wi, phase);
                }
                let direct = xk.norm_sqr() / norm * one_sided_factor(k, n);
                assert!((pk - direct).abs() < 1e-12, "n {n} k {k}: {pk} {direct}");
            }
        }
    }

    #[test]
    fn envelope_finds_burst_rate() {
        let (odr, n, rate) = (26_667.0, 32_768, 107.36);
        let mut rng = Gauss(7);
        // Strong 50 Hz running-speed hum that the band-pass must reject, plus noise.
        let mut x = sine(2.0, 50.0, odr, n);
        for (i, x) in x.iter_mut().enumerate() {
            let tau = (i as f64 / odr) % (1.0 / rate); // time since the last impact
            *x += (-tau * 600.0).exp() * (2.0 * PI * 3_000.0 * tau).sin() + 0.05 * rng.next();
        }
        let (env, df) = SpectralAnalyzer::new().envelope_spectrum(&x, odr, 2_000.0, 4_000.0);
        assert_eq!(env.len(), n / 2 + 1);
        let peak = argmax(&env, (5.0 / df).ceil() as usize) as f64 * df;
        assert!((peak - rate).abs() <= df, "envelope peak at {peak} Hz");
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let mut a = SpectralAnalyzer::new();
        let mut nan = sine(1.0, 50.0, 1_666.0, 64);
        nan[3] = f64::NAN;
        let inputs: [&[f64]; 7] = [
            &[],
            &[1.5],
            &[0.3; 4096],
            &[0.0; 4096],
            &[f64::NAN; 8],
            &nan,
            &[1e308, -1e308],
        ];
        for x in inputs {
            for odr in [26_667.0, 0.0, f64::NAN] {
                let f = a.axis_features(x, odr);
                let all = [f.rms_g, f.peak_g, f.crest, f.kurtosis, f.vel_rms_mm_s];
                assert!(all_finite(&all) && all_finite(&f.bands_g2), "{f:?}");
                let (p, df) = a.power_spectrum(x, odr);
                let (e, df2) = a.envelope_spectrum(x, odr, 2_000.0, 4_000.0);
                assert!(all_finite(&p) && all_finite(&e) && all_finite(&[df, df2]));
                assert!(p.len() == one_sided_len(x.len()) && e.len() == p.len());
            }
        }
        let flat = a.axis_features(&[0.3; 4096], 6_667.0);
        assert_eq!(flat, AxisFeatures::default());
        assert!(a.axis_features(&nan, 1_666.0).rms_g > 0.0);
    }

    #[test]
    fn deterministic_bit_identical() {
        let mut rng = Gauss(42);
        let mut x = sine(1.0, 440.0, 6_667.0, 4096);
        x.iter_mut().for_each(|v| *v += 0.1 * rng.next());
        let env_bits = |a: &mut SpectralAnalyzer| {
            let e = a.envelope_spectrum(&x, 6_667.0, 500.0, 2_000.0).0;
            e.into_iter().map(f64::to_bits).collect::<Vec<_>>()
        };
        let mut a = SpectralAnalyzer::new();
        let (first, env) = (bits(a.axis_features(&x, 6_667.0)), env_bits(&mut a));
        a.axis_features(&sine(0.5, 250.0, 6_667.0, 1001), 6_667.0); // switch size and back
        assert_eq!(first, bits(a.axis_features(&x, 6_667.0)));
        let fresh = SpectralAnalyzer::default().axis_features(&x, 6_667.0);
        assert_eq!(first, bits(fresh));
        assert_eq!(env, env_bits(&mut a));
    }
}
