"""The WeChat Official Account adapter (服务号), the only place WeChat's protocol lives:
`protocol` (signatures, safe-mode crypto, XML), `api` (access_token and the HTTP API),
`store` (what is shared through the database), `folding` (a step's Actions as few
messages) and `adapter` (intake, replies, the runner)."""
