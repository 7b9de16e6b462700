"""Pipeline steps of the flights MLOps platform: pure logic modules and their thin KFP wrappers."""
