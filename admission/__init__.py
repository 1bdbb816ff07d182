"""Admission tickets: print time, rooms and seats, the PDF and its signed QR code (R5, R38, R39)."""
