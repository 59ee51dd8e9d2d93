package clerkauth

// Names kept so that code written against earlier versions compiles and
// behaves as before. New code uses the names each comment points to.

// Default values of [Options] fields. An empty field gets its default.
const (
	// Deprecated: Options.APIURL states its default.
	DefaultAPIURL = defaultAPIURL
	// Deprecated: Options.APIVersion states its default.
	DefaultAPIVersion = defaultAPIVersion
	// Deprecated: Options.ClockSkew states its default.
	DefaultClockSkew = defaultClockSkew
	// Deprecated: Options.HTTPClient states its default.
	DefaultHTTPTimeout = defaultHTTPTimeout
	// Deprecated: Options.JWKSRefreshInterval states its default.
	DefaultJWKSRefreshInterval = defaultJWKSRefreshInterval
	// Deprecated: Options.JWKSCooldown states its default.
	DefaultJWKSCooldown = defaultJWKSCooldown
	// Deprecated: Options.KeyWaitTimeout states its default.
	DefaultKeyWaitTimeout = defaultKeyWaitTimeout
	// Deprecated: Options.TokenCacheSize states its default.
	DefaultTokenCacheSize = defaultTokenCacheSize
	// Deprecated: Options.MachineTokenCacheTTL states its default.
	DefaultMachineTokenCacheTTL = defaultMachineTokenCacheTTL
	// Deprecated: Options.TemplateTokenCacheSize states its default.
	DefaultTemplateCacheSize = defaultTemplateCacheSize
)
