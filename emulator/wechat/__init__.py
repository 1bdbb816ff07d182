"""The WeChat Official Account (服务号) side of the emulator: API, pushes, control API, page."""
