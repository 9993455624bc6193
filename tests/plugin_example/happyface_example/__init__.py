"""An example third-party module type for HappyFace: a board of batch queues."""
