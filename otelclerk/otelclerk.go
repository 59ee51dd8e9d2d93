// Package otelclerk turns what clerkauth does into OpenTelemetry metrics
// and spans: set the [clerkauth.Observer] that [New] returns as
// clerkauth.Options.Observer.
//
//	obs, err := otelclerk.New(otelclerk.Options{}) // the global providers
//	if err != nil { ... }
//	mw, err := clerkauth.New(clerkauth.Options{Observer: obs})
//
// Metrics (see docs/observability.md for the table):
//
//	clerkauth.authentications             counter    {authentication}
//	clerkauth.authentication.duration     histogram  s
//	clerkauth.jwks.downloads              counter    {download}
//	clerkauth.jwks.download.duration      histogram  s
//	clerkauth.jwks.keys                   gauge      {key}
//	clerkauth.backend.requests            counter    {request}
//	clerkauth.backend.request.duration    histogram  s
//	clerkauth.machine.busy                counter    {rejection}
//	clerkauth.breaker.open                up-down    {breaker}
//	clerkauth.breaker.openings            counter    {opening}
//	clerkauth.page_loads                  counter    {page_load}
//	clerkauth.page_load.duration          histogram  s
//
// Spans: "clerkauth.authenticate" for each authentication that verified a
// token (not a cache hit; a child of the request's span), and
// "clerkauth <endpoint>" (client kind) for each Backend API request
// attempt, key downloads included.
//
// Attributes hold only bounded values: token types, verdicts, Clerk's
// reason strings, endpoint classes, methods, status codes, outcomes. No
// token, secret key, user or session id, nor URL reaches them: clerkauth
// never hands them to an Observer.
package otelclerk

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clerkauth/clerkauth"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the meter and the tracer.
const ScopeName = "github.com/clerkauth/clerkauth/otelclerk"

// Attribute keys (see the package doc and docs/observability.md for
// their values).
const (
	attrTokenType = attribute.Key("clerkauth.token.type") // "none" without a token
	attrVerdict   = attribute.Key("clerkauth.verdict")
	attrReason    = attribute.Key("clerkauth.reason") // absent when signed in
	attrCacheHit  = attribute.Key("clerkauth.cache.hit")
	attrEndpoint  = attribute.Key("clerkauth.backend.endpoint")
	attrAttempt   = attribute.Key("clerkauth.backend.attempt")
	attrFlow      = attribute.Key("clerkauth.flow")
	attrOutcome   = attribute.Key("clerkauth.outcome")
	// The OpenTelemetry semantic conventions' own keys.
	attrMethod    = attribute.Key("http.request.method")
	attrStatus    = attribute.Key("http.response.status_code")
	attrErrorType = attribute.Key("error.type")
)

// Options configures [New].
type Options struct {
	// MeterProvider makes the instruments. Default: otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// TracerProvider makes the spans. Default: otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
}

// Bucket boundaries, in seconds: authentications take microseconds on a
// cache hit and about a millisecond when verified; Backend API requests
// take milliseconds to seconds (the OpenTelemetry HTTP client buckets).
var (
	authBuckets    = []float64{0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}
	backendBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
)

// observer holds the instruments and the attribute sets already built.
type observer struct {
	tracer trace.Tracer

	auths        metric.Int64ObservableCounter // read from authSets' counts
	authDuration metric.Float64Histogram
	downloads    metric.Int64Counter
	downloadDur  metric.Float64Histogram
	keys         metric.Int64Gauge
	requests     metric.Int64Counter
	requestDur   metric.Float64Histogram
	busy         metric.Int64Counter
	breakerOpen  metric.Int64UpDownCounter
	openings     metric.Int64Counter
	pageLoads    metric.Int64Counter
	pageLoadDur  metric.Float64Histogram

	authSets    setCache[authKey]
	backendSets setCache[backendKey]
	otherSets   setCache[otherKey]
}

type authKey struct {
	typ, verdict, reason string
	hit                  bool
}

type backendKey struct {
	endpoint, method, errType string
	status, attempt           int
}

// otherKey is the attributes of the rarer events: key downloads, busy,
// breaker and page loads.
type otherKey struct {
	kind       uint8
	a, b, c    string
	statusCode int
}

const (
	kindDownload uint8 = iota
	kindBusy
	kindBreaker
	kindPageLoad
)

// New returns a clerkauth.Observer recording metrics and spans with the
// providers of opts. One Observer may serve several middlewares and
// clients: their metrics add up.
func New(opts Options) (*clerkauth.Observer, error) {
	mp, tp := opts.MeterProvider, opts.TracerProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	m := mp.Meter(ScopeName)
	o := &observer{tracer: tp.Tracer(ScopeName)}
	var err error
	counter := func(dst *metric.Int64Counter, name, unit, desc string) {
		if err == nil {
			*dst, err = m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		}
	}
	histogram := func(dst *metric.Float64Histogram, name, desc string, buckets []float64) {
		if err == nil {
			*dst, err = m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
				metric.WithExplicitBucketBoundaries(buckets...))
		}
	}
	if err == nil {
		// Counted with an atomic add per request and reported when
		// collected: the cache hit, the common request, stays cheap.
		o.auths, err = m.Int64ObservableCounter("clerkauth.authentications", metric.WithUnit("{authentication}"),
			metric.WithDescription("Requests decided by the middleware, by token type, verdict, reason and cache hit."))
	}
	if err == nil {
		_, err = m.RegisterCallback(o.observeAuthentications, o.auths)
	}
	histogram(&o.authDuration, "clerkauth.authentication.duration",
		"How long verifying a token took, for the requests that were not cache hits.", authBuckets)
	counter(&o.downloads, "clerkauth.jwks.downloads", "{download}", "JWKS downloads, by status code and error.")
	histogram(&o.downloadDur, "clerkauth.jwks.download.duration", "How long a JWKS download took.", backendBuckets)
	if err == nil {
		o.keys, err = m.Int64Gauge("clerkauth.jwks.keys", metric.WithUnit("{key}"),
			metric.WithDescription("Usable keys in the last successful JWKS download."))
	}
	counter(&o.requests, "clerkauth.backend.requests", "{request}",
		"Backend API request attempts, by endpoint class, method, status code and error.")
	histogram(&o.requestDur, "clerkauth.backend.request.duration", "How long a Backend API request attempt took.", backendBuckets)
	counter(&o.busy, "clerkauth.machine.busy", "{rejection}",
		"Machine-token verifications refused because MaxMachineVerifyCalls calls were in flight.")
	if err == nil {
		o.breakerOpen, err = m.Int64UpDownCounter("clerkauth.breaker.open", metric.WithUnit("{breaker}"),
			metric.WithDescription("Breakers open now (1 per middleware whose Backend API calls are paused after a 429 or 5xx)."))
	}
	counter(&o.openings, "clerkauth.breaker.openings", "{opening}", "Times a breaker opened.")
	counter(&o.pageLoads, "clerkauth.page_loads", "{page_load}", "Handshake and refresh outcomes.")
	histogram(&o.pageLoadDur, "clerkauth.page_load.duration", "How long a handshake or refresh took in this process.", backendBuckets)
	if err != nil {
		return nil, err
	}
	o.authSets.build = func(k authKey) attribute.Set {
		typ := k.typ
		if typ == "" {
			typ = "none"
		}
		kv := []attribute.KeyValue{attrTokenType.String(typ), attrVerdict.String(k.verdict), attrCacheHit.Bool(k.hit)}
		if k.reason != "" {
			kv = append(kv, attrReason.String(k.reason))
		}
		return attribute.NewSet(kv...)
	}
	o.backendSets.build = func(k backendKey) attribute.Set {
		kv := []attribute.KeyValue{attrEndpoint.String(k.endpoint), attrMethod.String(k.method), attrAttempt.Int(k.attempt)}
		if k.status != 0 {
			kv = append(kv, attrStatus.Int(k.status))
		}
		if k.errType != "" {
			kv = append(kv, attrErrorType.String(k.errType))
		}
		return attribute.NewSet(kv...)
	}
	o.otherSets.build = func(k otherKey) attribute.Set {
		var kv []attribute.KeyValue
		switch k.kind {
		case kindDownload:
			if k.statusCode != 0 {
				kv = append(kv, attrStatus.Int(k.statusCode))
			}
			if k.a != "" {
				kv = append(kv, attrErrorType.String(k.a))
			}
		case kindBusy:
			kv = append(kv, attrTokenType.String(k.a))
		case kindBreaker:
			kv = append(kv, attrEndpoint.String(k.a))
		case kindPageLoad:
			kv = append(kv, attrFlow.String(k.a), attrOutcome.String(k.b))
			if k.c != "" {
				kv = append(kv, attrReason.String(k.c))
			}
		}
		return attribute.NewSet(kv...)
	}
	// The breaker series exists from the start, at 0, so that an alert
	// on it sees "closed" rather than nothing.
	o.breakerOpen.Add(context.Background(), 0, o.otherSets.get(otherKey{kind: kindBreaker, a: "machine.verify"}).add...)
	return &clerkauth.Observer{
		Authentication: o.authentication,
		KeyDownload:    o.keyDownload,
		BackendRequest: o.backendRequest,
		MachineBusy:    o.machineBusy,
		Breaker:        o.breaker,
		PageLoad:       o.pageLoad,
	}, nil
}

func (o *observer) authentication(e clerkauth.AuthenticationEvent) {
	s := o.authSets.get(authKey{e.TokenType, e.Verdict, e.Reason, e.CacheHit})
	s.count.Add(1)
	if e.Context == nil {
		return // a cache hit, or no token: nothing was verified
	}
	o.authDuration.Record(e.Context, e.Duration.Seconds(), s.record...)
	o.span(e.Context, "clerkauth.authenticate", trace.SpanKindInternal, e.Duration, s, e.Verdict != "signed-in")
}

// observeAuthentications reports the authentication counts when the
// metrics are collected.
func (o *observer) observeAuthentications(_ context.Context, obs metric.Observer) error {
	if m := o.authSets.m.Load(); m != nil {
		for _, s := range *m {
			obs.ObserveInt64(o.auths, s.count.Load(), s.observe...)
		}
	}
	if s := o.authSets.overflow.Load(); s != nil {
		obs.ObserveInt64(o.auths, s.count.Load(), s.observe...)
	}
	return nil
}

func (o *observer) keyDownload(e clerkauth.KeyDownloadEvent) {
	ctx := context.Background()
	s := o.otherSets.get(otherKey{kind: kindDownload, a: e.Reason, statusCode: e.StatusCode})
	o.downloads.Add(ctx, 1, s.add...)
	o.downloadDur.Record(ctx, e.Duration.Seconds(), s.record...)
	if e.Reason == "" {
		o.keys.Record(ctx, int64(e.Keys))
	}
}

func (o *observer) backendRequest(e clerkauth.BackendRequestEvent) {
	errType := e.Error
	if errType == "" && e.StatusCode >= 400 {
		errType = strconv.Itoa(e.StatusCode) // as the HTTP semantic conventions say
	}
	s := o.backendSets.get(backendKey{e.Endpoint, e.Method, errType, e.StatusCode, e.Attempt})
	ctx := e.Context
	if ctx == nil {
		ctx = context.Background()
	}
	o.requests.Add(ctx, 1, s.add...)
	o.requestDur.Record(ctx, e.Duration.Seconds(), s.record...)
	o.span(ctx, "clerkauth "+e.Endpoint, trace.SpanKindClient, e.Duration, s, errType != "")
}

func (o *observer) machineBusy(e clerkauth.MachineBusyEvent) {
	o.busy.Add(context.Background(), 1, o.otherSets.get(otherKey{kind: kindBusy, a: e.TokenType}).add...)
}

func (o *observer) breaker(e clerkauth.BreakerEvent) {
	s := o.otherSets.get(otherKey{kind: kindBreaker, a: e.Endpoint})
	ctx := context.Background()
	if e.Open {
		o.breakerOpen.Add(ctx, 1, s.add...)
		o.openings.Add(ctx, 1, s.add...)
		return
	}
	o.breakerOpen.Add(ctx, -1, s.add...)
}

func (o *observer) pageLoad(e clerkauth.PageLoadEvent) {
	ctx := context.Background()
	s := o.otherSets.get(otherKey{kind: kindPageLoad, a: e.Flow, b: e.Outcome, c: e.Reason})
	o.pageLoads.Add(ctx, 1, s.add...)
	o.pageLoadDur.Record(ctx, e.Duration.Seconds(), s.record...)
}

// span records a span that ended now and lasted d, under ctx's span.
func (o *observer) span(ctx context.Context, name string, kind trace.SpanKind, d time.Duration, s *sets, failed bool) {
	end := time.Now()
	_, span := o.tracer.Start(ctx, name, trace.WithSpanKind(kind), trace.WithTimestamp(end.Add(-d)))
	if span.IsRecording() {
		span.SetAttributes(s.kv...)
		if failed {
			span.SetStatus(codes.Error, "")
		}
	}
	span.End(trace.WithTimestamp(end))
}

// sets is one attribute set, in the shapes the instruments and spans take,
// built once so that recording allocates nothing for it.
type sets struct {
	add     []metric.AddOption
	record  []metric.RecordOption
	observe []metric.ObserveOption
	kv      []attribute.KeyValue
	count   atomic.Int64 // authentications: events counted, reported when collected
}

// maxSets bounds each cache: the keys are bounded by what clerkauth
// reports, so this is only a guard. Past it, every new key shares one
// overflow set.
const maxSets = 1024

// setCache maps event keys to their attribute sets. Reads are lock-free
// (an immutable map behind an atomic pointer, replaced whole when a new
// key arrives, which happens a bounded number of times).
type setCache[K comparable] struct {
	m        atomic.Pointer[map[K]*sets]
	mu       sync.Mutex // serializes writers
	build    func(K) attribute.Set
	overflow atomic.Pointer[sets] // shared by the keys past maxSets
}

func (c *setCache[K]) get(k K) *sets {
	if m := c.m.Load(); m != nil {
		if s, ok := (*m)[k]; ok {
			return s
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if s, ok := (*old)[k]; ok {
			return s
		}
	}
	if old != nil && len(*old) >= maxSets {
		if c.overflow.Load() == nil {
			// OpenTelemetry's overflow attribute: what the SDK uses past
			// its own cardinality limit.
			c.overflow.Store(newSets(attribute.NewSet(attribute.Bool("otel.metric.overflow", true))))
		}
		return c.overflow.Load()
	}
	s := newSets(c.build(k))
	m := make(map[K]*sets)
	if old != nil {
		for k2, v := range *old {
			m[k2] = v
		}
	}
	m[k] = s
	c.m.Store(&m)
	return s
}

func newSets(set attribute.Set) *sets {
	opt := metric.WithAttributeSet(set)
	return &sets{add: []metric.AddOption{opt}, record: []metric.RecordOption{opt},
		observe: []metric.ObserveOption{opt}, kv: set.ToSlice()}
}
