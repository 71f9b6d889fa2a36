//! The scenario reference printed by `fabtwin schema`: every field with its unit
//! and default. Kept beside the raw types it documents; a test checks that every
//! field of the raw types appears here.

/// The reference text.
pub const REFERENCE: &str = r#"fabtwin scenario reference (RON)
================================

A scenario is `Scenario( ... )`. Durations are strings with a unit: "500ms", "10s",
"15m", "6h", "30d", "1w". Optional values may be written bare (implicit Some).

Scenario
  name              string            required  letters, digits, -, _
  description       string            ""        free text for reports
  seed              u64               1         seed of every random stream (--seed overrides)
  start             RFC 3339 string   "2026-01-01T00:00:00Z"  calendar time of sim time 0
  duration          duration          required  length of the run (≤ 400d)
  acquisition       Acquisition       see below
  ambient_c         f64, °C           22        ambient air temperature (-40 … 60)
  ambient_hpa       f64, hPa          1013.25   ambient pressure (300 … 1200)
  ambient_rh_pct    f64, %            45        ambient relative humidity (0 … 100)
  sites             [Site]            required  the plant
  gateways          [Gateway]         one per line  edge gateways
  degradation       [Degradation]     []        wear processes
  faults            [Fault]           []        scheduled faults
  random_faults     [RandomFault]     []        Poisson faults
  network_faults    [NetworkFault]    []        faults on gateways' links to the broker
  expect            [Expect]          []        assertions for `fabtwin run`
  flow              [FlowLine]        []        material flow: parts on conveyors between stations

Acquisition
  interval          duration          "10m"     time between windows (≥ 2s)
  window_samples    u64               32768     samples per vibration window (256 … 1048576)

Site
  id                string            required
  supply_hz         f64, Hz           50        mains frequency: 50 | 60 (synchronous speed, 2× line vibration)
  lines             [Line]            required
Line:  id (string), machines ([Machine])

Machine
  id                string            required  unique; also the device id in topics
  kind              enum              required  Motor | Pump | Fan | Spindle | Compressor | Conveyor
  rated_speed_rpm   f64, rpm          required  60 … 60000; nameplate speed at rated load (slip falls with load)
  rated_power_kw    f64, kW           15        sets the ISO 10816-1 class and current
  load              Load              Constant(0.75)
  bearing           Bearing           SKF 6205 (9, 7.94, 39.04, 0)
  position          (f64, f64), m     grid      floor position for the twin
  zone_limits       ZoneLimits        ISO 10816-1 class by power
  limits            Limits            kurtosis 6/10, 80/95 °C
  resonance_hz      f64, Hz           by kind (2000 … 4500)  housing resonance rung by bearing impacts
  sensors           [Sensor]          required, ≥ 1

Load
  Constant(f64)                              fraction of rated load, 0 … 1.2
  Steps([(duration, f64), ...])              from each time on, that load (times increasing)
  Cycle(period: duration, high_for: duration, high: f64, low: f64)

Bearing (rolling_elements: u32, ball_diameter_mm: f64, pitch_diameter_mm: f64, contact_angle_deg: f64)
  3 … 100 elements; ball < pitch; n·d < π·D; contact angle 0 … 45°.

ZoneLimits (ab_mm_s: f64, bc_mm_s: f64, cd_mm_s: f64)   mm/s RMS, increasing
  zone C raises a warning, zone D an alarm.

Limits (all optional)
  kurtosis_warning  f64               6
  kurtosis_alarm    f64               10
  temperature_warning_c  f64, °C      80
  temperature_alarm_c    f64, °C      95

Sensor
  id                string            required  unique on its machine
  part              string            required  IIS3DWB | ISM330DHCX | IIS2DLPC | STTS22H | HTS221 | LPS22HH | IMP34DT05 | IMP23ABSU
  mounting          enum              Stud      Stud | Adhesive | Magnet
  axes              enum              Xyz       Xyz | X | Y | Z (accelerometers only)
  vertical          enum              X         X | Y | Z: the axis pointing up, which reads +1 g at rest
  odr_hz            f64, Hz           the part's highest; must be one of the part's rates
  full_scale        f64, part unit    4 (g) for accelerometers, the only range otherwise

Gateway
  id                string            required
  machines          [string]          required  machine ids; each machine has exactly one gateway
  publish_interval  duration          acquisition.interval
  codec             enum              Json      Json | SparkplugB
  session           enum              PerGateway  PerGateway | PerDevice
  qos               u8                1         0 | 1
  buffer            Buffer            100000 messages, DropOldest  store-and-forward buffer
  heartbeat         duration | "none" 5m        time between each session's heartbeats (sim time)

Buffer (all optional)
  max_messages      u64               100000    most messages held (≥ 1)
  max_bytes         u64, bytes        none      most payload bytes held (≥ 1024)
  overflow          enum              DropOldest  DropOldest | RejectNew
  ttl               duration          none      messages older than this are discarded
  drain_rate        f64, messages/s   1000      most buffered messages sent per second after an outage (0.1 … 1e9)

NetworkFault
  gateway           string            required
  kind              Outage | Latency(ms) | Loss(probability 0 … 1) | Partition
  at                duration          required  before the end of the run
  duration          duration          required

Degradation
  machine           string            required
  mode              enum              required  bearing_outer | bearing_inner | imbalance | misalignment | looseness | overheating
  onset             At(duration) | Uniform(min: duration, max: duration)
  initial           f64               0.05      first detectable severity (0 < x < 1; failure at 1); the
                                                defect initiates at onset at initial/30, below the noise floor
  growth            Exponential(rate_per_day: f64, rate_cv: 0.3, sigma_per_sqrt_day: 0.1)
                  | Gamma(mean_per_day: f64, cv: 0.5)
                  | Wiener(drift_per_day: f64, sigma_per_sqrt_day: 0.05)
  life from onset   Exponential: ln(30/initial)/rate_per_day days; Gamma: 1/mean_per_day days;
                    Wiener: 1/drift_per_day days — each for the median unit: a unit's clock runs
                    slower or faster by a Weibull life factor of median 1 (slope 10/9 for bearing
                    modes, Lundberg–Palmgren; 2 for the others), so a fleet's lives spread many-fold

Fault
  machine           string            required
  sensor            string            —         required for sensor faults, refused for machine faults
  kind              FaultKind         required
  at                duration          required  before the end of the run
  duration          duration          forever

FaultKind
  machine:  BearingOuter(sev) | BearingInner(sev) | Imbalance(sev) | Misalignment(sev)
            | Looseness(sev) | Overheating(sev)          severity 0 … 2 (1 = failure threshold)
  sensor:   StuckAt | Dropout | Drift(unit per hour) | Bias(unit) | Gain(factor 0 … 100)
            | Noise(factor ≥ 1) | Saturation(fraction of full scale)
            | Spikes(rate_hz: f64, amplitude: f64)

RandomFault
  machines          All | Healthy | Only([string])
  sensor            string            —         for sensor faults
  kind              FaultKind
  mtbf              duration          required  mean time between arrivals per machine
  duration          duration          required  length of each

Expect
  AlarmWithin(machine: string, within: duration, level: Alarm)   level: Warning | Alarm
  NoAlarm(machines: All | Healthy | Only([...]), level: Alarm)
  MessagesAtLeast(u64)
  Fails(string)                       the machine crosses its failure threshold during the run
  Survives(string)
  ThroughputAtLeast(line: string, per_hour: f64)   flow line's good parts per hour over the run
  JamDetectedWithin(line: string, within: duration) every jam flagged by the line's jam logic in time

FlowLine  (parts move on rapier3d-simulated belts at a 20 ms tick; every station and
           buffer has exactly one input and one output conveyor)
  id                string            required  unique among flow lines; topic level
  site              string            the gateway's site
  gateway           string            the only gateway (required when there are several)
  publish_interval  duration          "10s"     time between flow messages (≥ 20ms)
  part              Part              0.2 m, 5 kg
  belt_height_m     f64, m            0.8       belt top above the floor (0 … 3)
  sources           [Source]          required, ≥ 1
  conveyors         [Conveyor]        required
  stations          [Station]         []
  buffers           [FlowBuffer]      []
  sinks             [Sink]            required, ≥ 1
  faults            [FlowFault]       []

Part:   size_m (f64, m, 0.05 … 1, default 0.2: cube edge), mass_kg (f64, kg, 0.01 … 500, default 5)
Source: id (string), interval (duration ≥ 20ms: time between releases; waits while the belt entry is occupied)
Station
  id                string            required  element id (sources, stations, buffers, sinks share one id space)
  cycle_time        duration          required  nominal cycle (≥ 20ms); the line's ideal rate is its slowest element's
  spread            f64               0         each cycle × (1 ± spread), uniform from the seed (0 … 0.9)
  position          (f64, f64), m     end of its input conveyor
FlowBuffer: id (string), capacity (u32, 1 … 10000 parts), position ((f64, f64), m; default: end of its input conveyor)
Sink:   id (string)
Conveyor
  id                string            required  unique in the line
  from              string            required  a source, station or buffer
  to                string            required  a station, buffer or sink
  length_m          f64, m            required  0.5 … 200
  speed_m_s         f64, m/s          required  0.05 … 3
  motor_kw          f64, kW           0.75      rated motor power (0.05 … 50): sets the current
  position          (f64, f64), m     (0, 0)    floor position of the belt's start
  direction         (f64, f64)        (1, 0)    direction of travel on the floor (normalised)

FlowFault
  Jam(conveyor: string, position_m: f64, at: duration, duration: duration)   an obstacle holds parts at position_m
  BeltSlip(conveyor: string, factor: f64, at: duration, duration: duration)  belt delivers factor (0 … 1) of its speed
  Slowdown(station: string, factor: f64, at: duration, duration: duration)   cycles take factor (1 … 100) times as long
  PartDrop(conveyor: string, at: duration)                                   the part furthest along falls off (scrap)
"#;

#[cfg(test)]
mod tests {
    use super::REFERENCE;

    #[test]
    fn every_raw_field_is_documented() {
        // Field names of the raw types (kept in sync by hand; this test fails when a
        // field is added to raw.rs without being documented here).
        let raw = include_str!("raw.rs");
        for line in raw.lines() {
            let t = line.trim();
            if let Some(rest) = t.strip_prefix("pub ")
                && let Some((name, _)) = rest.split_once(':')
                && !name.contains(' ')
                && !name.contains('(')
            {
                assert!(
                    REFERENCE.contains(name),
                    "field `{name}` is missing from the schema reference"
                );
            }
        }
    }
}
